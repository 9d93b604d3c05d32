"""Subcommands of the silent-churn model: `churn-model fit` and `churn-model fits`."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from datetime import UTC, date, datetime

import duckdb

from customer_health.churn import model
from customer_health.cliutil import print_json, settings_from_args
from customer_health.clock import model_now
from customer_health.config import Settings
from customer_health.db import open_owner, open_reader, reader, refuse_on_lake
from customer_health.errors import UserError
from customer_health.health.refresh import HealthRefresher
from customer_health.jsonsafe import jsonable
from customer_health.sqlfiles import Statements, transaction


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("churn-model", help="the BG/NBD silent-churn model: fit it, list the stored fits")
    churn_sub = p.add_subparsers(dest="churn_command", required=True, parser_class=type(p))

    f = churn_sub.add_parser(
        "fit", parents=[common],
        help="fit the model on every succeeded charge up to --as-of and store the fit",
        description=(
            "Fit BG/NBD by maximum likelihood on each customer's transactions (succeeded charges, one per "
            "customer and UTC day, time in weeks) up to and including the UTC day of --as-of, store the fit "
            "and print its parameters, log-likelihood and customer count. Without a running pipeline the "
            "customers' churn figures and health are then recomputed as of now; a running pipeline rescores them "
            "at its next batch (health: at its next full refresh, within health.norms_max_age_minutes)."
        ),
    )
    f.add_argument("--as-of", type=_as_of, metavar="DATE",
                   help="end of the calibration window: YYYY-MM-DD or an ISO time, UTC (default: the model's now)")
    f.add_argument("--json", action="store_true", help="print the fit as JSON")
    f.set_defaults(handler=cmd_fit)

    h = churn_sub.add_parser("fits", parents=[common], help="list the stored fits, newest first")
    h.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    h.add_argument("--json", action="store_true", help="print as JSON")
    h.set_defaults(handler=cmd_fits)


def _as_of(text: str) -> datetime:
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time())
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD) or ISO time: {text!r}") from None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value


@contextlib.contextmanager
def _database(settings: Settings) -> Iterator[tuple[Statements, duckdb.DuckDBPyConnection | None]]:
    """(statements, owner connection or None): the file as its owner when no pipeline holds it,
    else the running pipeline over Quack."""
    if not settings.db_path.exists():
        raise UserError(f"no database at {settings.db_path}: run `customer-health ingest` or `load` first")
    try:
        con = open_owner(settings)
    except UserError as exc:
        if "already owned" not in str(exc):
            raise
        served = open_reader(settings)  # a clear error when the owner does not serve the database
        try:
            yield served, None
        finally:
            served.close()
        return
    try:
        model.ensure_transactions(con, settings)
        yield Statements(con), con
    finally:
        con.close()


def _rescore(con: duckdb.DuckDBPyConnection, settings: Settings, now: datetime) -> int:
    """Without a pipeline: every customer's churn scores, then their health (which reads P(alive)), as of the
    model's ``now``."""
    with transaction(con):
        scored = model.score_customers(con, settings, None, now).customers
        HealthRefresher(settings.health).full_refresh(con, now, reason="churn_fit")
    return scored


def cmd_fit(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    refuse_on_lake(settings, "churn-model fit", "the fits live in each pipeline's working store (each refits every "
                   "churn.refit_interval_hours on the lake's whole history), not in the lake, so a fit made here "
                   "would reach no pipeline and no reader")
    now = model.utc_now()  # the wall clock: when the fit was made
    with _database(settings) as (run, con):
        model_time = model_now(run, now)  # the as-of of the scores, as every reader's
        as_of = args.as_of or model_time
        if as_of.date() > model_time.date():
            raise UserError(f"--as-of {as_of:%Y-%m-%d} is in the future: customers would look older than they "
                            f"are (today is {model_time:%Y-%m-%d} UTC)")
        fit = model.fit_model(run, as_of, trigger="manual", now=now)
        scored: int | None = None
        if con is not None:
            scored = _rescore(con, settings, model_time)
        scoring = model.scoring_fit(run)
    document = fit.as_dict() | {
        "time_unit": "weeks",
        "scoring_fit_id": scoring.fit_id if scoring else None,
        "customers_scored": scored,
    }
    if args.json:
        print_json(jsonable(document))
        return 0
    print(f"fit #{fit.fit_id}: {fit.customers:,} customers, window {fit.window_start} .. {fit.window_end} (UTC days)")
    print(f"  r = {fit.r:.4f}  alpha = {fit.alpha:.4f} (weeks)  a = {fit.a:.4f}  b = {fit.b:.4f}")
    print(f"  log-likelihood = {fit.log_likelihood:.2f}  ({'converged' if fit.converged else fit.message})")
    if scoring is None:
        print("  no converged fit yet: customers are not scored")
    elif scoring.fit_id != fit.fit_id:
        print(f"  customers are scored with fit #{scoring.fit_id} (as of {scoring.as_of})")
    if scored is not None:
        print(f"  rescored {scored:,} customers and their health as of {model_time:%Y-%m-%d %H:%M:%S} UTC")
    else:
        print("  the running pipeline rescores the customers with it at its next batch")
    return 0


def cmd_fits(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if args.limit < 1:
        raise UserError("--limit must be at least 1")
    with reader(settings) as db:
        fits = model.stored_fits(db, args.limit)
    if args.json:
        print_json([jsonable(f.as_dict()) for f in fits])
        return 0
    if not fits:
        print("no fit stored yet: run `customer-health churn-model fit`")
        return 0
    for f in fits:
        state = "converged" if f.converged else "not converged"
        print(f"#{f.fit_id} {f.fitted_at:%Y-%m-%d %H:%M} as of {f.as_of:%Y-%m-%d} ({f.trigger}): {f.customers:,} "
              f"customers, r={f.r:.4g} alpha={f.alpha:.4g} a={f.a:.4g} b={f.b:.4g} LL={f.log_likelihood:.1f}, "
              f"{state}")
    return 0
