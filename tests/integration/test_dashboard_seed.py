"""Helpers (no tests): a small database for the dashboard's tests, built only through the product's own
paths: events landed by the Lander with the pipeline's default extensions (churn, the per-batch health
refresh, batch quality) on a simulated clock, consumer lag recorded the way the consumer does, then the
quality table suites and the alert evaluation the pipeline schedules. Nothing is inserted into a derived table by hand.

Five customers over the last 60 days, with hand-picked behaviour:
- c-champ  (b2b, premium): pays 400 a month on time, visits every other day, one short how-to ticket.
- c-drain  (b2c, basic):   pays 9 a month, 25 long how-to tickets: costs more to serve than it brings.
- c-angry  (b2c, standard): pays 30 a month, complaints, escalations, a legal threat, compensation demands.
- c-fading (b2c, standard, household h-1): visited daily, then stopped 30 days ago; one failed payment.
- c-gone   (b2c, standard, household h-1): cancelled 10 days ago.
Plus every kind of bad message the contract refuses (dead letters) on Kafka-style records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

from customer_health.composition import pipeline_extensions
from customer_health.config import Settings, load_settings
from customer_health.db import open_owner
from ingest.landing import RawBatch
from ingest.service import build_lander
from tests import factories as f

CUSTOMERS = ("c-champ", "c-drain", "c-angry", "c-fading", "c-gone")


@dataclass
class SeededDb:
    settings: Settings
    config_path: Path
    as_of: datetime
    dead_letters: int


def write_config(tmp: Path, db_path: Path | None = None, quack_port: int = 0, token: str = "",
                 refresh_seconds: float = 2.0, extra: str = "") -> Path:
    """A config file for the dashboard: nothing listens on its Kafka address (the seeds need no broker)."""
    path = tmp / "config.toml"
    token_line = f'token = "{token}"\n' if token else ""
    path.write_text(
        f'db_path = "{db_path or tmp / "health.duckdb"}"\n'
        '[kafka]\nbootstrap_servers = "127.0.0.1:1"\n'
        f"[quack]\nport = {quack_port or 1}\n{token_line}"
        f"[dashboard]\nrefresh_seconds = {refresh_seconds}\n{extra}",
        encoding="utf-8",
    )
    return path


def _iso(t: datetime) -> str:
    return t.replace(tzinfo=UTC).isoformat()


def seed_events(as_of: datetime) -> list[tuple[str, dict]]:
    """(event type, event) in time order: the five customers above over the 60 days before ``as_of``."""
    start = as_of - timedelta(days=60)
    events: list[tuple[str, dict]] = []

    def add(event_type: str, event_id: str, customer_id: str, at: datetime, **fields: object) -> None:
        events.append((event_type, f.FACTORIES[event_type](event_id, customer_id, occurred_at=_iso(at), **fields)))

    signed_up = _iso(as_of - timedelta(days=400))
    add("customers", "p-champ", "c-champ", start, kind="b2b", plan="premium", name="Champ GmbH", signed_up_at=signed_up)
    add("customers", "p-drain", "c-drain", start, kind="b2c", plan="basic", name="Dana Drain", signed_up_at=signed_up)
    add("customers", "p-angry", "c-angry", start, kind="b2c", plan="standard", name="Andy Angry",
        signed_up_at=signed_up)
    add("customers", "p-fading", "c-fading", start, kind="b2c", plan="standard", name="Fay Fading",
        household_id="h-1", signed_up_at=signed_up)
    add("customers", "p-gone", "c-gone", start, kind="b2c", plan="standard", name="Gus Gone", household_id="h-1",
        signed_up_at=signed_up)
    for month in range(2):
        at = start + timedelta(days=1 + 30 * month)
        add("payments", f"pay-champ-{month}", "c-champ", at, amount=400.0, currency="EUR")
        add("payments", f"pay-drain-{month}", "c-drain", at, amount=9.0, currency="EUR")
        add("payments", f"pay-angry-{month}", "c-angry", at, amount=30.0, currency="EUR")
        add("payments", f"pay-fading-{month}", "c-fading", at, amount=30.0, currency="EUR",
            status="failed" if month == 1 else "succeeded")
        add("payments", f"pay-gone-{month}", "c-gone", at, amount=30.0, currency="EUR")
    for day in range(0, 60, 2):
        add("visits", f"v-champ-{day}", "c-champ", start + timedelta(days=day, hours=10))
    for day in range(0, 30):
        add("visits", f"v-fading-{day}", "c-fading", start + timedelta(days=day, hours=20))
    for day in range(0, 50, 5):
        add("visits", f"v-drain-{day}", "c-drain", start + timedelta(days=day, hours=9))
        add("visits", f"v-angry-{day}", "c-angry", start + timedelta(days=day, hours=9))
    add("tickets", "t-champ-1", "c-champ", start + timedelta(days=20), handling_minutes=8.0)
    for i in range(25):
        add("tickets", f"t-drain-{i}", "c-drain", start + timedelta(days=5 + 2 * i, hours=1), handling_minutes=45.0)
    for i in range(8):
        at = start + timedelta(days=20 + 5 * i, hours=3)
        extra: dict[str, object] = {"category": "complaint", "escalated": i % 2 == 0, "sentiment": -0.9,
                                    "handling_minutes": 40.0, "compensation_requested": 50.0}
        if i == 7:
            extra |= {"category": "legal_threat"}
        if i in (2, 5):
            extra |= {"compensation_granted": 20.0}
        add("tickets", f"t-angry-{i}", "c-angry", at, **extra)
    add("customers", "p-gone-cancel", "c-gone", as_of - timedelta(days=10), plan="standard", name="Gus Gone",
        household_id="h-1", signed_up_at=signed_up, cancelled_at=_iso(as_of - timedelta(days=10)))
    return sorted(events, key=lambda e: e[1]["occurred_at"])


def land(settings: Settings, events: list[tuple[str, dict]], as_of: datetime, every_days: int = 10,
         bad: bool = True) -> int:
    """Land the events as Kafka-style batches through the pipeline's Lander and default extensions (churn,
    health refresh, batch quality), one batch per ``every_days`` of event time, each landed at the end of
    its period on a simulated clock: the hooks run as they did on those days (daily snapshots, segment
    changes). Then every bad message kind, at the real now. Returns how many were dead-lettered."""
    con = open_owner(settings)
    ext = pipeline_extensions(con, settings)
    try:
        lander = build_lander(con, settings, ext)
        offsets: dict[str, int] = {}
        produced_ms = int(datetime.now(UTC).timestamp() * 1000)

        def add(batch: RawBatch, event_type: str, partition: int, key: bytes | None, raw: bytes) -> None:
            offset = offsets.get(f"{event_type}/{partition}", 0)
            offsets[f"{event_type}/{partition}"] = offset + 1
            batch.add_kafka(event_type, event_type, partition, offset, key, raw, produced_ms)

        groups: dict[datetime, list[tuple[str, dict]]] = {}
        start = as_of - timedelta(days=60)
        for event_type, event in events:
            at = datetime.fromisoformat(event["occurred_at"]).replace(tzinfo=None)
            period = min(as_of, start + timedelta(days=every_days * (1 + int((at - start).days // every_days))))
            groups.setdefault(period, []).append((event_type, event))
        for landed_at, group in sorted(groups.items()):
            batch = RawBatch()
            for event_type, event in group:
                add(batch, event_type, 0, event["customer_id"].encode(), json.dumps(event).encode())
            with mock.patch("ingest.landing.utc_now", return_value=landed_at):
                lander.land(batch, "kafka")
        dead = 0
        if bad:
            batch = RawBatch()
            for event_type, raw, _reason in f.BAD_MESSAGES:
                add(batch, event_type, 1, None, raw)
            dead = lander.land(batch, "kafka").dead_lettered
        lander.record_lag([(t, int(p), n + 3, n, 3) for tp, n in offsets.items() for t, p in [tp.split("/")]],
                          datetime.now(UTC).replace(tzinfo=None))
        return dead
    finally:
        for stop in ext.on_stop:
            stop()
        con.close()


def run_scheduled_jobs(settings: Settings) -> None:
    """The pipeline's scheduled work, once: quality table suites and alert evaluation."""
    from customer_health.alerts.pipeline import QualityAndAlerts

    con = open_owner(settings)
    try:
        jobs = QualityAndAlerts(con, settings)
        with con.cursor() as cur:
            jobs.run_table_suites(cur)
            jobs.evaluate_alerts(cur)
    finally:
        con.close()


def build_seeded_db(tmp: Path, with_quality: bool = True) -> SeededDb:
    config = write_config(tmp)
    settings = load_settings(config, env={})
    as_of = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    dead = land(settings, seed_events(as_of), as_of)
    if with_quality:
        run_scheduled_jobs(settings)
    return SeededDb(settings, config, as_of, dead)
