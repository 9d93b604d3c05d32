"""Subcommands of the health model: customer, customers, intervene, dossier, portfolio, what-if, refresh."""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path
from typing import Any

from customer_health.cliutil import print_json, settings_from_args
from customer_health.clock import model_now, utc_now
from customer_health.db import open_owner, reader, refuse_on_lake
from customer_health.errors import UserError
from customer_health.health.dossier import write_dossier
from customer_health.health.interventions import record_intervention
from customer_health.health.queries import customer_health, customers_summary, dossier_data, parse_as_of, portfolio
from customer_health.health.refresh import HealthRefresher
from customer_health.health.what_if import check_filters, evidence_archive, known_plans, what_if
from customer_health.private import make_private_dir, write_private_bytes
from customer_health.sqlfiles import Statements, transaction
from customer_health.vocabulary import SEGMENTS, STEPS


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("customer", parents=[common],
                       help="one customer's health: metrics, score, segment, drift, next step, win-back")
    p.add_argument("customer_id", metavar="ID")
    p.add_argument("--as-of", metavar="T", help="evaluate at this UTC time (RFC 3339 or date; default: now)")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(handler=cmd_customer)

    p = sub.add_parser("customers", parents=[common], help="every known customer's health, worst first")
    p.add_argument("--segment", choices=SEGMENTS, help="only this segment")
    p.add_argument("--as-of", metavar="T", help="evaluate at this UTC time (RFC 3339 or date; default: now)")
    p.add_argument("--limit", type=int, default=None, help="print at most N customers (text output)")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(handler=cmd_customers)

    p = sub.add_parser("intervene", parents=[common], help="record that a playbook step was tried")
    p.add_argument("customer_id", metavar="ID")
    p.add_argument("step", choices=STEPS)
    p.add_argument("--note", required=True,
                   help="what was done (for exit: why), at least 3 words or 10 characters")
    p.add_argument("--by", help="who did it (default: the current OS user)")
    p.add_argument("--at", metavar="T", help="when it was tried (UTC; default: now)")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(handler=cmd_intervene)

    p = sub.add_parser("dossier", parents=[common], help="write a customer's evidence file (HTML and Markdown)")
    p.add_argument("customer_id", metavar="ID")
    p.add_argument("--out", type=Path, default=Path("."), help="directory to write to (default: .)")
    p.add_argument("--format", choices=["html", "md", "both"], default="both")
    p.add_argument("--as-of", metavar="T", help="report time (UTC; default: now)")
    p.add_argument("--days", type=int, default=365, help="timeline length in days (default: 365)")
    p.add_argument("--json", action="store_true", help="print the written paths as JSON")
    p.set_defaults(handler=cmd_dossier)

    p = sub.add_parser("portfolio", parents=[common],
                       help="segment mix, whale curve, top-30%% profit share, profit lost to the unprofitable")
    p.add_argument("--points", type=int, default=20, help="points of the whale curve (default: 20)")
    p.add_argument("--days", type=int, default=30, help="days of segment mix history (default: 30)")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(handler=cmd_portfolio)

    p = sub.add_parser("what-if", parents=[common],
                       help="what letting customers go does: money, support time, whale curve, collateral damage")
    p.add_argument("--segment", metavar="S", nargs="+", action="extend", default=[],
                   help="let go the customers of these segments (not churned)")
    p.add_argument("--margin-below", metavar="X",
                   help="... whose margin_90d is below X (reporting currency); with no segment either: below 0")
    p.add_argument("--plan", metavar="P", help="... on this plan")
    p.add_argument("--kind", metavar="K", help="... of this kind: b2b or b2c")
    p.add_argument("--points", type=int, default=None, help="points per whale curve (default: what_if setting)")
    p.add_argument("--archive", type=Path, metavar="FILE",
                   help="write the evidence files of the customers ready to exit into this zip archive")
    p.add_argument("--export", type=Path, metavar="DIR",
                   help="... into what-if-evidence-<time>.zip in this directory")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(handler=cmd_what_if)

    p = sub.add_parser("refresh", parents=[common],
                       help="recompute every customer's health now (no pipeline may be running)")
    p.add_argument("--rebuild", action="store_true", help="first rebuild the rollups from every landed event")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(handler=cmd_refresh)


def _money(value: Any) -> str:
    return "–" if value is None else f"{value:,.2f}"


def cmd_customer(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    with reader(settings) as db:
        doc = customer_health(db, settings, args.customer_id, parse_as_of(args.as_of))
    if args.json:
        print_json(doc)
        return 0
    cur = doc["currency"]
    print(f"{doc['name']} ({doc['customer_id']}) · {doc['kind']} · {doc['plan']} · as of {doc['as_of']}")
    print(f"segment:      {doc['segment']} ({doc['segment_reason']})")
    print(f"health score: {doc['health_score']} / 100 (7 days: {_signed(doc['score_change_7d'])}, "
          f"30 days: {_signed(doc['score_change_30d'])})")
    comps = doc["components"] or {}
    moved = doc["moved"] or {}
    for name, value in comps.items():
        print(f"  {name.replace('_', ' '):20s} {value:5.1f}  (moved {_signed(moved.get(name))})")
    print(f"revenue_90d {_money(doc['revenue_90d'])} {cur} · cost_to_serve_90d {_money(doc['cost_to_serve_90d'])} "
          f"{cur} · margin_90d {_money(doc['margin_90d'])} {cur}")
    print(f"support minutes: {doc['support_minutes_30d']:.1f} (30 days), {doc['support_minutes_90d']:.1f} (90 days), "
          f"portfolio median {doc['portfolio_median_support_minutes_90d'] or 0:.1f}")
    print(f"90 days: {doc['complaints_90d']} complaints, {doc['compensation_requests_90d']} compensation requests "
          f"({_money(doc['compensation_requested_amount_90d'])} {cur}), {doc['legal_threats_90d']} legal threats, "
          f"{doc['escalations_90d']} escalations, {doc['how_to_tickets_90d']} how-to tickets, "
          f"{doc['failed_payments_90d']} failed payments, {doc['overdue_invoices_90d']} overdue invoices, "
          f"{doc['visits_90d']} visits")
    if doc["days_since_last_visit"] is None:
        print("last visit: never")
    else:
        gap = doc["usual_visit_gap_days"]
        print(f"last visit: {doc['days_since_last_visit']:.1f} days ago"
              + (f" (usual gap {gap:.1f} days)" if gap is not None else ""))
    if doc["visit_trend"] is not None:
        print(f"visit trend: {doc['visit_trend']:.2f} ({doc['visits_30d']} visits in 30 days, usually "
              f"{doc['usual_visits_30d']:.1f}); the score is {doc['fading_factor']:.2f} x the components' mean")
    if doc["p_alive"] is not None:
        print(f"silent churn: P(alive) {doc['p_alive']:.2f}, expected transactions {doc['expected_tx_30d']:.2f} "
              f"(30 days), {doc['expected_tx_90d']:.2f} (90 days), value {_money(doc['expected_value_90d'])} {cur}")
    if doc["drifting_toward"]:
        print(f"drifting toward {doc['drifting_toward']}: ~{doc['days_to_threshold']} days to the threshold")
    print(f"next step:    {doc['next_step']}: {doc['next_step_reason']}")
    for i in doc["interventions_tried"] or []:
        print(f"  tried {i['step']} at {i['tried_at']}")
    if doc["win_back_dates"]:
        print("win-back contacts due: " + ", ".join(doc["win_back_dates"]))
    if doc["household_churned"]:
        print("household members who churned: " + ", ".join(doc["household_churned"]))
    if doc["returned_after_exit"]:
        print(f"returned after exit (exit of {doc['returned_after_exit_of']})")
    return 0


def _signed(value: Any) -> str:
    return "–" if value is None else f"{value:+.1f}"


def cmd_customers(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    with reader(settings) as db:
        rows = customers_summary(db, settings, args.segment, parse_as_of(args.as_of))
    if args.json:
        print_json(rows)
        return 0
    shown = rows if args.limit is None else rows[: args.limit]
    print(f"{'customer':14s} {'segment':12s} {'score':>5s} {'margin_90d':>11s} {'support_min':>11s}  next step")
    for r in shown:
        print(f"{r['customer_id'][:14]:14s} {r['segment']:12s} {r['health_score']:5.1f} {_money(r['margin_90d']):>11s} "
              f"{r['support_minutes_90d']:11.1f}  {r['next_step']}")
    print(f"{len(rows):,} customers" + (f" (showing {len(shown):,})" if len(shown) < len(rows) else ""))
    return 0


def cmd_intervene(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    who = args.by or getpass.getuser()
    at = parse_as_of(args.at, "--at")
    if settings.store == "ducklake":  # one copy of the lake: checked on it, recorded in the lake, read back
        with reader(settings) as db:
            done = record_intervention(settings, args.customer_id, args.step, args.note, who, at, reader=db)
            doc = customer_health(db, settings, args.customer_id)
    else:
        done = record_intervention(settings, args.customer_id, args.step, args.note, who, at)
        with reader(settings) as db:
            doc = customer_health(db, settings, args.customer_id)
    if args.json:
        print_json({"intervention": done.as_dict(), "next_step": doc["next_step"],
                    "next_step_reason": doc["next_step_reason"]})
        return 0
    print(f"recorded #{done.intervention_id}: {done.step} with {done.customer_id} by {done.recorded_by} "
          f"at {done.tried_at:%Y-%m-%d %H:%M:%S} UTC")
    print(f"next step now: {doc['next_step']}: {doc['next_step_reason']}")
    return 0


def cmd_dossier(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if args.days < 1:
        raise UserError("--days must be at least 1")
    with reader(settings) as db:
        data = dossier_data(db, settings, args.customer_id, parse_as_of(args.as_of), args.days)
    formats = ("html", "md") if args.format == "both" else (args.format,)
    try:
        files = write_dossier(data, args.out, formats)
    except OSError as exc:
        raise UserError(f"cannot write the evidence file to {args.out}: {exc.strerror or exc}") from None
    paths = {"html": str(files.html) if files.html else None, "markdown": str(files.markdown) if files.markdown
             else None}
    if args.json:
        print_json(paths)
    else:
        for path in paths.values():
            if path:
                print(path)
    return 0


def cmd_portfolio(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    with reader(settings) as db:
        doc = portfolio(db, args.points, args.days)
    if args.json:
        print_json(doc)
        return 0
    s = doc["summary"]
    cur = settings.health.currency
    print(f"{s['customers']:,} active customers · revenue_90d {_money(s['revenue_90d'])} {cur} · cost_to_serve_90d "
          f"{_money(s['cost_to_serve_90d'])} {cur} · margin_90d {_money(s['margin_90d'])} {cur}")
    share = s["top_30pct_share_of_profit"]
    print(f"top 30% of customers make {'–' if share is None else f'{100 * share:.0f}%'} of the profit; "
          f"{s['unprofitable_customers']:,} customers with a margin below 0 (terrorists included; the unprofitable "
          f"segment is those without terrorist behaviour) destroy "
          f"{_money(s['profit_destroyed_by_unprofitable'])} {cur}")
    print("whale curve (customer share -> cumulative profit share):")
    for point in doc["whale_curve"]:
        share_p = point["cumulative_profit_share"]
        print(f"  {100 * point['customer_share']:5.1f}% -> {'–' if share_p is None else f'{100 * share_p:6.1f}%'}")
    if doc["segment_mix"]:
        print("segment mix (latest day): " + ", ".join(
            f"{m['segment']} {m['customers']:,}" for m in doc["segment_mix"]
            if m["day"] == doc["segment_mix"][-1]["day"]))
    return 0


def cmd_what_if(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if args.points is not None and args.points < 2:
        raise UserError("--points must be at least 2")
    if args.archive is not None and args.export is not None:
        raise UserError("give --archive FILE or --export DIR, not both")
    with reader(settings) as db:
        filters = check_filters(args.segment, args.margin_below, args.plan, args.kind, known_plans(db))
        doc = what_if(db, settings, filters, args.points)
        ready = [c["customer_id"] for c in doc["ready_customers"]]
        archive = None
        if args.archive is not None or args.export is not None:
            archive = args.archive or args.export / f"what-if-evidence-{utc_now():%Y%m%dT%H%M%SZ}.zip"
            content = evidence_archive(db, settings, ready)
    if archive is not None:
        try:
            make_private_dir(archive.parent)
            write_private_bytes(archive, content)
        except OSError as exc:
            raise UserError(f"cannot write the evidence archive {archive}: {exc.strerror or exc}") from None
        doc["archive"] = {"path": str(archive), "customers": ready}
    if args.json:
        print_json(doc)
        return 0
    _print_what_if(doc)
    return 0


def _print_what_if(doc: dict[str, Any]) -> None:
    cur, f, pf, col = doc["currency"], doc["filters"], doc["portfolio"], doc["collateral"]
    chosen = ", ".join(filter(None, [
        f"segments {' '.join(f['segments'])}" if f["segments"] else None,
        f"margin_90d below {f['margin_below']:,.2f} {cur}" if f["margin_below"] is not None else None,
        f"plan {f['plan']}" if f["plan"] else None, f"kind {f['kind']}" if f["kind"] else None]))
    print(f"letting go {doc['customers']:,} customers ({chosen}); {doc['ready']:,} ready to exit, "
          f"{doc['not_ready']:,} not ready")
    print(f"{'':28s} {'90 days':>14s} {'annualised':>14s}")
    for label, key in (("revenue lost", "revenue_lost"), ("cost to serve saved", "cost_to_serve_saved"),
                       ("support minutes freed", "support_minutes_freed"), ("agent hours freed", "agent_hours_freed"),
                       ("margin change", "margin_change")):
        print(f"{label:28s} {doc[key + '_90d']:>14,.2f} {doc[key + '_annual']:>14,.2f}")
    print(f"portfolio margin_90d: {_money(pf['margin_before_90d'])} -> {_money(pf['margin_after_90d'])} {cur} "
          f"({pf['customers_before']:,} -> {pf['customers_after']:,} customers); top 30% share "
          f"{_share(pf['top_30pct_margin_share_before'])} -> {_share(pf['top_30pct_margin_share_after'])}")
    h, w, b = col["households"], col["complaint_witnesses"], col["b2b_notice"]
    print("collateral damage:")
    print(f"  {h['households_at_risk']:,} households at risk, {h['members_at_risk']:,} other members, margin_90d "
          f"{_money(h['members_margin_90d'])} {cur}: expected {_money(h['expected_margin_change_90d'])} "
          f"({h['assumption']})")
    print(f"  {w['customers']:,} profitable customers with open complaints, margin_90d {_money(w['margin_90d'])} "
          f"{cur}: expected {_money(w['expected_margin_change_90d'])} ({w['assumption']})")
    print(f"  {b['accounts']:,} business accounts ({b['accounts_with_delayed_saving']:,} whose saving is delayed): "
          f"{_money(b['delayed_margin_change'])} {cur} of the margin change delayed ({b['assumption']})")
    print(f"  margin change with collateral, 90 days: {_money(col['margin_change_with_collateral_90d'])} {cur}; "
          f"first year after notice: {_money(col['margin_change_first_year'])} {cur}")
    print("playbook: " + ", ".join(f"{p['step']} tried with {p['customers_tried']:,}" for p in doc["playbook"]))
    for c in doc["not_ready_customers"]:
        print(f"  not ready: {c['customer_id']} ({c['segment']}, margin_90d {_money(c['margin_90d'])}): "
              f"{c['first_untried']} never tried")
    if "archive" in doc:
        print(f"evidence files of {len(doc['archive']['customers']):,} customers: {doc['archive']['path']}")


def _share(value: Any) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def cmd_refresh(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    refuse_on_lake(settings, "refresh", "there is no stored model to refresh: every pipeline and every reader "
                   "derives health from the lake's events in a copy of its own, refreshed as batches land")
    con = open_owner(settings)
    try:
        refresher = HealthRefresher(settings.health)
        with transaction(con):
            if args.rebuild:
                refresher.rebuild_rollups(con)
            result = refresher.full_refresh(con, model_now(Statements(con)), reason="manual")
    finally:
        con.close()
    doc = {"customers": result.customers, "segment_changes": result.segment_changes,
           "duration_ms": round(result.duration_ms, 1)}
    if args.json:
        print_json(doc)
    else:
        print(f"refreshed {result.customers:,} customers ({result.segment_changes:,} segment changes) "
              f"in {result.duration_ms:,.0f} ms")
    return 0
