"""Subcommand `backtest`: how well the health score, the segments and the churn model predicted."""

from __future__ import annotations

import argparse
from typing import Any

from customer_health.cliutil import print_json, settings_from_args
from customer_health.db import reader
from customer_health.health.backtest import MIN_HORIZON_DAYS, backtest
from customer_health.health.queries import parse_as_of


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "backtest", parents=[common], help="how well the score, segments and churn model predicted the past",
        description=(
            "Evaluate the health model at a past time T (the same evaluation as `customers --as-of`) and compare "
            "it with what happened in the following H days: churn (cancelled, or no visit and no succeeded charge "
            "in the horizon's last 30 days) among the customers active in the 30 days before T, the margin over "
            "the horizon, and the churn model's expected transactions (fitted on the days before T only)."
        ),
    )
    p.add_argument("--as-of", metavar="T",
                   help="the past time to evaluate at (UTC; default: the latest event time minus the horizon)")
    p.add_argument("--horizon-days", type=int, default=60, metavar="H",
                   help=f"days after T to look at (at least {MIN_HORIZON_DAYS}; default 60)")
    p.add_argument("--suggest-weights", action="store_true",
                   help="also fit component weights on these outcomes and print them (never applied)")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(handler=cmd_backtest)


def _share(value: Any) -> str:
    return _number(value, ".3f")


def _number(value: Any, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def cmd_backtest(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    with reader(settings) as db:
        doc = backtest(db, settings.health, parse_as_of(args.as_of), args.horizon_days,
                       with_weights=args.suggest_weights)
    if args.json:
        print_json(doc)
        return 0
    churn, unprofitable, model = doc["churn"], doc["unprofitability"], doc["churn_model"]
    print(f"backtest at {doc['as_of']} over {doc['horizon_days']} days (to {doc['horizon_end']}): "
          f"{doc['customers']:,} customers known and not churned")
    print(f"churn: {churn['churned']:,} of {churn['customers']:,} active customers ({churn['cancelled']:,} cancelled, "
          f"{churn['silent']:,} gone silent)")
    print(f"  churn_auc {_share(churn['churn_auc'])} (cancelled {_share(churn['churn_auc_cancelled'])}, "
          f"silent {_share(churn['churn_auc_silent'])})")
    if churn["customers"] and churn["with_baseline"] < churn["customers"] / 2:
        print(f"  note: only {churn['with_baseline']:,} of them had a usual visit rate at T (health.fading_min_visits "
              "visits before its 30-day window): the score cannot see the others fade, which is most of what "
              "predicts silent churn; backtest with more history before T")
    risk = churn["at_risk"]
    print(f"  at_risk: {risk['flagged']:,} flagged, precision {_share(risk['precision'])}, "
          f"recall {_share(risk['recall'])}, lift {_share(risk['lift'])}")
    print(f"unprofitable over the horizon: {unprofitable['unprofitable']:,}; the unprofitable segment: "
          f"{unprofitable['flagged']:,} flagged, precision {_share(unprofitable['precision'])}, "
          f"recall {_share(unprofitable['recall'])}")
    if model["fit"] is None:
        print("churn model: no succeeded charge before T, nothing to fit")
    else:
        converged = "" if model["fit"]["converged"] else " (the fit did not converge)"
        print(f"churn model (fitted on the days to {model['calibration_end']}{converged}): expected "
              f"{_number(model['expected_transactions'], ',.1f')} transactions, actual "
              f"{_number(model['actual_transactions'], ',.0f')}, for {model['customers']:,} customers")
        print(f"  {'frequency':>9s} {'customers':>9s} {'expected':>9s} {'actual':>9s}  (per customer)")
        for row in model["by_frequency"]:
            print(f"  {row['frequency']:>9s} {row['customers']:9,d} {_number(row['expected_transactions'], '9.2f')} "
                  f"{_number(row['actual_transactions'], '9.2f')}")
    weights = doc.get("suggested_weights")
    if weights:
        print("suggested weights (not applied): " + ", ".join(f"{k} {v:.2f}" for k, v in weights["weights"].items()))
        print(f"  out-of-sample churn AUC {_share(weights['test_auc'])} on {weights['test_customers']:,} customers "
              f"(current weights: {_share(weights['current_weights_test_auc'])}); to use them, set [health.weights]")
    return 0
