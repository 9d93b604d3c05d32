"""Subcommands of the pipeline: ingest, load, broker, status."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from datetime import timedelta
from pathlib import Path

from customer_health.alerts.webhook import validate_webhook_url
from customer_health.cliutil import print_json, settings_from_args
from customer_health.clock import utc_now
from customer_health.composition import (
    finish_load,
    load_lander,
    load_left_underived,
    pipeline_extensions,
    preload_quality,
    settle_checkpoint,
)
from customer_health.db import open_owner, reader, refuse_on_lake
from customer_health.errors import UserError
from customer_health.exposure import warn_if_exposed
from customer_health.progress import progress
from customer_health.status import pipeline_status
from expectations import lake as lake_quality
from ingest.broker import ensure_topics, start_broker
from ingest.files import LoadStopped, LoadTotals, load_files
from ingest.service import attach_lake_log, run_pipeline

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("ingest", parents=[common], help="run the pipeline: Kafka -> DuckDB, served over Quack")
    p.add_argument("--no-serve", action="store_true", help="do not serve the database over Quack")
    p.add_argument("--alert-webhook", metavar="URL",
                   help="POST every alert as JSON to URL (overrides alerts.webhook_url)")
    p.set_defaults(handler=cmd_ingest)

    p = sub.add_parser("load", parents=[common], help="backfill JSONL, CSV or Parquet files")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE",
                   help="JSONL (.jsonl, .ndjson, .json: one JSON object per line), CSV with its header first "
                        "(.csv, UTF-8) or Parquet (.parquet); fields and timestamps (with offset) as in the event "
                        "contract (a profile's signed_up_at and cancelled_at may be a day, YYYY-MM-DD); a file "
                        "loaded again lands only its new rows and stores its bad rows once")
    p.add_argument("--type", choices=["tickets", "payments", "visits", "customers"],
                   help="event type of every file (default: from each file name)")
    p.add_argument("--assume-timezone", metavar="ZONE",
                   help="read a CSV or Parquet file's times without an offset (a Parquet TIMESTAMP without time "
                        "zone, CSV text such as 2026-03-01 10:15:00) in this zone, e.g. UTC or Europe/Berlin; a "
                        "time a DST change repeats is the later of its two instants (default: a Parquet file of "
                        "them is refused, CSV rows of them are dead-lettered)")
    p.add_argument("--json", action="store_true", help="print totals as JSON")
    p.set_defaults(handler=cmd_load)

    p = sub.add_parser("broker", parents=[common], help="run the embedded Kafka-protocol broker (Tansu)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9092)
    p.set_defaults(handler=cmd_broker)

    p = sub.add_parser("lake-maintain", parents=[common],
                       help='DuckLake maintenance of store = "ducklake": merge small files, expire old snapshots, '
                            "delete unneeded files (run from one place, e.g. a daily cron)")
    p.add_argument("--older-than-hours", type=float, metavar="H",
                   help="expire snapshots older than H hours (default: ducklake.retain_snapshots_hours)")
    p.add_argument("--json", action="store_true", help="print what was done as JSON")
    p.set_defaults(handler=cmd_lake_maintain)

    p = sub.add_parser("status", parents=[common], help="landed events, dead letters, lag, last batch")
    p.add_argument("--json", action="store_true", help="print as JSON")
    p.set_defaults(handler=cmd_status)


def cmd_ingest(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if args.no_serve:
        settings = settings.with_overrides(quack__enabled=False)
    if args.alert_webhook:
        url = validate_webhook_url(args.alert_webhook, key="--alert-webhook")
        settings = settings.with_overrides(alerts__webhook_url=url)
    run_pipeline(settings, extensions=pipeline_extensions, finish_history=finish_load,
                 settle_checkpoint=settle_checkpoint)
    return 0


def cmd_lake_maintain(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if settings.store != "ducklake":
        raise UserError('lake-maintain needs store = "ducklake" (the embedded file needs no maintenance)')
    hours = settings.ducklake.retain_snapshots_hours if args.older_than_hours is None else args.older_than_hours
    if hours < 0:
        raise UserError(f"--older-than-hours must be 0 or more, got {hours:g}")
    lake = attach_lake_log(settings, "maintenance")
    try:
        if not lake.has_log():
            raise UserError("the lake holds nothing yet: nothing to maintain")
        pruned = lake_quality.prune(lake, settings, utc_now())  # before the files are merged
        done = lake.maintain(utc_now() - timedelta(hours=hours))
        done["steps"] = {"prune_quality_runs": pruned, **done["steps"]}
    finally:
        lake.con.close()
    if args.json:
        print_json(done)
        return 0
    print(f"data files {done['data_files']['before']:,} -> {done['data_files']['after']:,}, "
          f"snapshots {done['snapshots']['before']:,} -> {done['snapshots']['after']:,}")
    for step, affected in done["steps"].items():
        print(f"  {step}: {affected:,}")
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    refuse_on_lake(settings, "load", "a file backfill into the lake is not built yet: produce the events to the "
                   "topics (the pipelines commit them to the lake) or load into a file store (store = \"duckdb\")")
    con = open_owner(settings)
    preloading = preload_quality(settings)
    stopped: LoadStopped | None = None
    try:
        lander = load_lander(con, settings)
        with progress("loading", unit="rows") as shown:
            try:
                # already-dead-lettered shown once there are any (as in the summary): the line fits 80 columns
                totals = load_files(lander, args.files, args.type, progress=lambda t, _elapsed: shown.update(
                    t.rows, landed=t.landed, duplicates=t.duplicates, dead_lettered=t.dead_lettered,
                    **({"already_dead_lettered": t.already_dead_lettered} if t.already_dead_lettered else {}),
                    quarantined=t.quarantined),
                    chunk_bytes=settings.pipeline.load_chunk_mb * 1024 * 1024, assume_timezone=args.assume_timezone)
            except LoadStopped as exc:  # what landed before it is summarised, then the error raised
                stopped, totals = exc, exc.totals
        if stopped is None and (totals.landed or load_left_underived(con)):
            with progress("health and history", unit="customers") as shown:
                refreshed = finish_load(con, settings)
                shown.update(refreshed.customers)
    finally:
        con.close()
        if preloading is not None:
            preloading.join()
    if stopped is None:
        if args.json:
            print_json(_load_counts(totals))
        else:
            print(_load_summary(totals))
        return 0
    read = stopped.read + ([(stopped.path, stopped.of_file)] if stopped.of_file.rows else [])
    if args.json:
        print_json({**_load_counts(totals), "files": [{"file": str(path), **_load_counts(of_file)}
                                                       for path, of_file in read],
                    "stopped_by": {"file": str(stopped.path), "error": stopped.cause},
                    "not_read": [str(path) for path in stopped.not_read]})
    else:
        unread = len(stopped.not_read)
        print(f"the load stopped at {stopped.path}"
              + (f"; {unread} file{'s' if unread > 1 else ''} after it not read" if unread else "")
              + (". Landed before it stopped (health is derived by the next load):" if totals.rows else
                 ". Nothing landed."))
        for path, of_file in read:
            print(f"  {path}: {_load_summary(of_file)}")
        if len(read) > 1:
            print(f"  in all: {_load_summary(totals)}")
    raise stopped


def _load_counts(totals: LoadTotals) -> dict[str, int]:
    """A load's counts: every row is landed, a duplicate, dead-lettered (now, or already by an earlier load of the
    same file) or quarantined."""
    return {"rows": totals.rows, "landed": totals.landed, "duplicates": totals.duplicates,
            "dead_lettered": totals.dead_lettered, "already_dead_lettered": totals.already_dead_lettered,
            "quarantined": totals.quarantined}


def _load_summary(totals: LoadTotals) -> str:
    known = totals.already_dead_lettered
    already = f", {known:,} bad row{'s' if known > 1 else ''} already dead-lettered by an earlier load" if known else ""
    return (f"{totals.rows:,} rows: {totals.landed:,} landed, {totals.duplicates:,} duplicates, "
            f"{totals.dead_lettered:,} dead-lettered{already}, {totals.quarantined:,} quarantined")


def cmd_broker(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    warn_if_exposed("the broker", args.host, args.port,
                    "it has no authentication: anyone who reaches it reads and writes every topic")
    broker = start_broker(args.host, args.port)
    settings = settings.with_overrides(kafka__bootstrap_servers=broker.bootstrap_servers)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: stop.set())
    try:
        ensure_topics(settings.kafka)
        print(f"broker listening on {broker.bootstrap_servers} (memory storage); Ctrl-C to stop", flush=True)
        while not stop.wait(0.5):
            if broker.process.poll() is not None:
                raise UserError(f"the broker exited with code {broker.process.returncode}")
    finally:
        broker.stop()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    committed = owners = None
    if settings.store == "ducklake":  # the lag counts from the offsets the pipelines committed to the lake
        lake = attach_lake_log(settings, "status")
        try:
            positions = lake.positions()
        finally:
            lake.con.close()
        committed = {p: pos.next_offset or 0 for p, pos in positions.items()}
        owners = {p: pos.owner for p, pos in positions.items()}
    with reader(settings) as con:
        status = pipeline_status(con, settings, committed, owners)
    if args.json:
        print_json(status)
        return 0
    landed = status["landed"]
    print("landed:       " + ", ".join(f"{k} {v:,}" for k, v in landed.items()))
    dl = status["dead_letter"]
    reasons = ", ".join(f"{k} {v:,}" for k, v in dl["by_reason"].items()) or "none"
    print(f"duplicates:   {status['duplicates']:,}")
    print(f"dead letters: {dl['total']:,} ({reasons})")
    quarantined = status["quarantined"]
    by_type = ", ".join(f"{k} {v:,}" for k, v in quarantined["by_type"].items()) or "none"
    print(f"quarantined:  {quarantined['total']:,} ({by_type})")
    lag = status["lag"]
    print(f"lag ({lag['source']}): " + ("unknown" if lag["total"] is None else f"{lag['total']:,} messages"))
    if lag.get("broker_error"):
        print(f"  broker not read: {lag['broker_error']}")
    owners = status.get("owners", {})
    for partition, n in lag["partitions"].items():
        print(f"  {partition}: {n:,}" + (f"  (owner {owners[partition]})" if partition in owners else ""))
    print(f"last batch:   {status['last_batch_at'] or 'never'}")
    return 0
