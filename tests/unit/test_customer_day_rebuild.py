"""The customer_day rollup rebuilt at the end of a backfill (health/rebuild_customer_day) equals the one the
pipeline keeps batch by batch: every fact of every customer and day, escalations included."""

from __future__ import annotations

import json
import random
from pathlib import Path

from customer_health.composition import pipeline_extensions
from customer_health.config import Settings
from customer_health.db import open_owner
from customer_health.health.refresh import HealthRefresher
from ingest.landing import batch_from_rows
from ingest.service import build_lander
from tests.factories import encode, payment, ticket, ts, visit

PER_DAY = ("select * from health_day_sums_of('customer_day') "
           "order by customer_id, day")


def events(seed: int) -> list[list[tuple[str, str, int, bytes]]]:
    """Batches of tickets (some escalated, some more than once, on other days), payments and visits, landed in
    event-time order (a late escalation is the history's business, not the rollup's)."""
    rng = random.Random(seed)
    rows: list[tuple[str, str, int, bytes]] = []
    for i in range(400):
        customer_id, at = f"c{rng.randrange(12)}", ts(rng.randrange(-60 * 24 * 20, 0))
        kind = rng.choice(["tickets", "tickets", "payments", "visits"])
        if kind == "tickets":
            event = ticket(f"t{i}", customer_id, occurred_at=at, ticket_id=f"T{customer_id}-{rng.randrange(5)}",
                           action=rng.choice(["opened", "updated"]),
                           category=rng.choice(["how_to", "complaint", "legal_threat"]),
                           escalated=rng.random() < 0.3, compensation_requested=rng.choice([0, 5.5]))
        elif kind == "payments":
            event = payment(f"p{i}", customer_id, occurred_at=at, kind=rng.choice(["charge", "refund"]),
                            status=rng.choice(["succeeded", "failed"]), currency=rng.choice(["EUR", "USD"]))
        else:
            event = visit(f"v{i}", customer_id, occurred_at=at)
        rows.append((kind, "f.jsonl", i + 1, encode(event)))
    rows.sort(key=lambda row: json.loads(row[3])["occurred_at"])
    return [rows[start:start + 50] for start in range(0, len(rows), 50)]


def test_the_rebuilt_rollup_equals_the_one_kept_batch_by_batch(tmp_path: Path) -> None:
    batches = events(7)
    kept_settings = Settings(db_path=tmp_path / "kept.duckdb")
    kept = open_owner(kept_settings)
    rebuilt_settings = Settings(db_path=tmp_path / "rebuilt.duckdb")
    rebuilt = open_owner(rebuilt_settings)
    try:
        live = build_lander(kept, kept_settings, pipeline_extensions(kept, kept_settings))
        bulk = build_lander(rebuilt, rebuilt_settings, pipeline_extensions(rebuilt, rebuilt_settings))
        bulk.bulk = True
        for rows in batches:
            live.land(batch_from_rows(rows), "file:f.jsonl")
            bulk.land(batch_from_rows(rows), "file:f.jsonl")
        assert rebuilt.execute("select count(*) from customer_day").fetchone() == (0,)
        HealthRefresher(rebuilt_settings.health).rebuild_rollups(rebuilt)
        per_day = rebuilt.execute(PER_DAY).fetchall()
        assert per_day == kept.execute(PER_DAY).fetchall()
        escalations = rebuilt.execute("select sum(escalations) from customer_day").fetchone()
        assert escalations is not None and escalations[0] > 0
        assert rebuilt.execute("select count(*) from (select distinct customer_id, day from customer_day)").fetchone() \
            == rebuilt.execute("select count(*) from customer_day").fetchone()
    finally:
        kept.close()
        rebuilt.close()


def test_every_customer_and_day_of_an_event_is_in_the_rebuilt_rollup_once(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "once.duckdb")
    con = open_owner(settings)
    try:
        lander = build_lander(con, settings, pipeline_extensions(con, settings))
        lander.bulk = True
        for rows in events(11):
            lander.land(batch_from_rows(rows), "file:f.jsonl")
        HealthRefresher(settings.health).rebuild_rollups(con)
        keys = ("select distinct customer_id, occurred_at::date from tickets union select customer_id, "
                "occurred_at::date from payments union select customer_id, occurred_at::date from visits")
        assert sorted(con.execute(keys).fetchall()) == \
            con.execute("select customer_id, day from customer_day order by all").fetchall()
    finally:
        con.close()
