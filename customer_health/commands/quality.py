"""Subcommands of data quality and alerts: check, alerts.

Great Expectations is imported only by `check`, inside its handler: other commands start without it.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from customer_health import sqlfiles
from customer_health.alerts.lake import LakeAlerts
from customer_health.alerts.webhook import WebhookSink, receiver_urls
from customer_health.cliutil import print_json, settings_from_args
from customer_health.config import Settings
from customer_health.db import open_owner, open_reader, reader
from customer_health.errors import UserError
from customer_health.jsonsafe import jsonable
from expectations import lake as lake_quality
from expectations.tables import TableCheck, check_document, record_table_check, run_table_suites
from ingest.lake import LakeLog
from ingest.service import attach_lake_log, lake_member

SUITE_NAMES = ("tickets", "payments", "visits", "customers", "customer_health", "health_snapshots", "topics")


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "check", parents=[common],
        help="run every table suite now; exit 1 if a critical expectation fails (for cron and CI)",
    )
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--suite", action="append", choices=SUITE_NAMES, metavar="SUITE",
                   help=f"run only this suite (repeatable): {', '.join(SUITE_NAMES)}")
    p.add_argument("--no-store", action="store_true", help="do not record the results in the database")
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("alerts", parents=[common], help="the most recent alerts and their delivery status")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    p.add_argument("--undelivered", action="store_true",
                   help="only alerts that never reached every webhook receiver (failed, pending, held)")
    p.set_defaults(handler=cmd_alerts)
    actions = p.add_subparsers(dest="alerts_action", parser_class=type(p), metavar="{retry}")
    retry = actions.add_parser("retry", parents=[common],
                               help="send failed alerts (or the alerts --id names) to the webhook receivers again")
    retry.add_argument("--id", type=int, action="append", dest="alert_ids", metavar="ALERT_ID",
                       help="this alert (repeatable; default: every failed alert)")
    retry.add_argument("--json", action="store_true", help="print the outcome as JSON")
    retry.set_defaults(handler=cmd_alerts_retry)


def cmd_check(args: argparse.Namespace) -> int:
    """Exit 0: no critical expectation failed (warnings allowed); 1: at least one did (or an error)."""
    settings = settings_from_args(args)
    now = datetime.now(UTC).replace(tzinfo=None)
    db = open_reader(settings)  # UserError when there is no database
    if settings.store == "ducklake":  # a reader's copy of the lake: checked there, the runs recorded in the lake
        try:
            check = run_table_suites(db, settings, now, args.suite)
            run_ids = None if args.no_store else _record_check_in_lake(settings, db, check)
        finally:
            db.close()
    elif db.mode == "quack":  # a pipeline owns the file: read and record through it, server-side
        try:
            check = run_table_suites(db, settings, now, args.suite)
            run_ids = None if args.no_store else record_table_check(db, check, trigger="check")
        finally:
            db.close()
    else:
        db.close()
        con = open_owner(settings)
        try:
            sql = sqlfiles.Statements(con)
            check = run_table_suites(sql, settings, now, args.suite)
            run_ids = None if args.no_store else record_table_check(sql, check, trigger="check")
        finally:
            con.close()
    document = check_document(check, run_ids)
    if args.json:
        print_json(document)
    else:
        _print_check(document)
    return 0 if document["success"] else 1


def _record_check_in_lake(settings: Settings, copy: sqlfiles.Statements, check: TableCheck) -> list[int]:
    """Record ``check``'s runs in the lake (as written by check-<member>); their run ids (the writer's)."""
    with sqlfiles.transaction(copy.con):
        run_ids = record_table_check(copy, check, trigger="check")
    lake = attach_lake_log(settings, f"check-{lake_member(settings)}")
    try:
        lake_quality.record_runs(lake, copy.con, run_ids=run_ids)
    finally:
        lake.con.close()
    return run_ids


def _print_check(document: dict[str, Any]) -> None:
    verdict = "ok" if document["success"] else f"FAILED ({document['critical_failures']} critical)"
    print(f"check at {document['run_at']}: {verdict}")
    for suite in document["suites"]:
        state = "ok" if suite["success"] else "FAILED"
        print(f"  {suite['suite']:<17} {state:<9} {suite['rows']:,} rows, {len(suite['expectations'])} expectations"
              + (f", {suite['warnings']} warning(s)" if suite["warnings"] else ""))
        for e in suite["expectations"]:
            if e["success"]:
                continue
            level = "critical" if e["critical"] else "warning"
            observed = e["error"] or json.dumps(e["observed_value"])
            print(f"    {level}: {e['expectation']}: {observed}")
            for row in e["failing_sample"][:3]:
                print(f"      e.g. {json.dumps(row)}")


def cmd_alerts(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    with reader(settings) as db:
        result = db.run("alerts/never_delivered" if args.undelivered else "alerts/recent",
                            {"limit": max(1, args.limit)})
        columns = [d[0] for d in result.description]
        rows = [dict(zip(columns, r, strict=True)) for r in result.fetchall()]
    for row in rows:
        row["payload"] = json.loads(row["payload"]) if row.get("payload") else None
        for key in ("created_at", "delivered_at"):
            row[key] = jsonable(row.get(key))
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("every alert was delivered" if args.undelivered else "no alerts")
    for row in rows:
        delivery = row["delivery_status"] + (f" x{row['attempts']}" if row["attempts"] else "")
        print(f"#{row['alert_id']:<5} {row['created_at'][:19]}  {row['severity']:<8} {row['source']}/{row['subject']}"
              f"  [{delivery}]  {row['title']}")
        if args.undelivered:
            why = row["last_error"] or (f"held in summary #{row['summary_alert_id']}" if row["summary_alert_id"]
                                        else "")
            if why or row["receivers"]:
                print(f"       {why}{'  ' if why and row['receivers'] else ''}{row['receivers']}")
    if args.undelivered and rows:
        print("send again: customer-health alerts retry [--id ALERT_ID ...]")
    return 0


def cmd_alerts_retry(args: argparse.Namespace) -> int:
    """Send the chosen alerts to the receivers that do not have them yet; exit 1 if one is still not delivered."""
    settings = settings_from_args(args)
    if not receiver_urls(settings.alerts):
        raise UserError("no webhook receiver configured (alerts.webhook_url, alerts.webhook_urls)")
    params = {"alert_ids": args.alert_ids}
    db = open_reader(settings)
    owner = None
    lake: LakeLog | None = None
    on_recorded = None
    try:
        if settings.store == "ducklake":  # the reader's copy of the lake; each outcome recorded in the lake too
            statements = db
            lake = attach_lake_log(settings, "alerts-retry")
            shared = LakeAlerts(settings)
            shared.attach(lake)

            def on_recorded(params: Mapping[str, Any]) -> None:
                shared.record_delivery(db.con, params)
        elif db.mode == "quack":  # a pipeline owns the file: record through it, server-side
            statements = db
        else:
            db.close()
            owner = open_owner(settings)
            statements = sqlfiles.Statements(owner)
        record = statements.run
        rows = record("alerts/to_retry", params).fetchall()
        # Retries are sent now, one attempt after another, without waiting out long backoffs.
        alerts = settings.alerts
        quick = alerts.with_overrides(webhook_backoff_max_s=min(alerts.webhook_backoff_max_s, 5.0))
        sink = WebhookSink(None, quick, record_statement=record, on_recorded=on_recorded)
        sink.start()
        for alert_id, payload, done in rows:
            sink.submit(int(alert_id), json.loads(payload), skip=list(done))
        budget = alerts.webhook_max_attempts * (alerts.webhook_timeout_s + 5.0) * max(1, len(rows))
        sink.close(timeout=budget)
        ids = [int(r[0]) for r in rows]
        outcome = ([{"alert_id": i, "delivery_status": s} for i, s in
                    record("alerts/delivery_of", {"alert_ids": ids}).fetchall()] if ids else [])
    finally:
        if owner is not None:
            owner.close()
        else:
            db.close()
        if lake is not None:
            lake.con.close()
    if args.json:
        print_json(outcome)
    else:
        if not outcome:
            print("nothing to retry" + ("" if args.alert_ids else " (no failed alert)"))
        for row in outcome:
            print(f"#{row['alert_id']:<5} {row['delivery_status']}")
    return 0 if all(r["delivery_status"] == "delivered" for r in outcome) else 1

