"""Alerts and suites on the real health model: events land through the product's pipeline hooks
(quality, churn, health refresh), a customer turns terrorist, and exactly that is news."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from customer_health import sqlfiles
from customer_health.alerts.pipeline import QualityAndAlerts
from customer_health.composition import pipeline_extensions
from customer_health.config import load_settings
from customer_health.db import open_owner
from expectations.tables import run_table_suites
from ingest.landing import Lander, RawBatch
from ingest.plugins import PipelineExtensions
from ingest.service import build_lander
from tests.factories import customer, encode, payment, ticket, visit

NOW = datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def iso(moment: datetime) -> str:
    return moment.isoformat() + "Z"


class World:
    def __init__(self, tmp_path: Path) -> None:
        base = load_settings(None, env={})
        self.settings = base.with_overrides(db_path=tmp_path / "world.duckdb")
        self.con = open_owner(self.settings)
        self.ext: PipelineExtensions = pipeline_extensions(self.con, self.settings)
        self.lander: Lander = build_lander(self.con, self.settings, self.ext)
        self.offset = 0

    def land(self, events: list[tuple[str, dict]]) -> int:
        batch = RawBatch()
        for event_type, event in events:
            self.offset += 1
            batch.add_kafka(event_type, event_type, 0, self.offset, event["customer_id"].encode(), encode(event), None)
        result = self.lander.land(batch, "kafka")
        assert result.dead_lettered == 0 and result.quarantined == 0
        return result.batch_id

    def close(self) -> None:
        for stop in self.ext.on_stop:
            stop()
        self.con.close()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


def ordinary_customers(ids: list[str]) -> list[tuple[str, dict]]:
    events: list[tuple[str, dict]] = []
    for cid in ids:
        events.append(("customers", customer(f"k-{cid}", cid, occurred_at=iso(NOW - timedelta(days=30)),
                                             signed_up_at=iso(NOW - timedelta(days=400)))))
        events.append(("payments", payment(f"p-{cid}", cid, amount=10, occurred_at=iso(NOW - timedelta(days=5)))))
        events += [("visits", visit(f"v-{cid}-{d}", cid, occurred_at=iso(NOW - timedelta(days=d))))
                   for d in range(1, 10)]
    return events


def test_a_customer_turning_terrorist_is_news_and_the_health_suites_pass(world: World) -> None:
    world.land(ordinary_customers(["o1", "o2", "o3", "o4", "o5", "x"]))
    qa = QualityAndAlerts(world.con, world.settings, clock=lambda: NOW)
    assert qa.evaluate_alerts(world.con.cursor()).sent == []  # first segments of new customers: not news
    world.land([("tickets", ticket(f"t-x-{i}", "x", category="legal_threat" if i % 2 else "complaint",
                                   escalated=True, occurred_at=iso(NOW - timedelta(hours=i)))) for i in range(12)])
    sent = qa.evaluate_alerts(world.con.cursor()).sent
    assert [(a.source, a.subject, a.severity) for a in sent] == [("segment", "x", "critical")]
    details = sent[0].payload["details"]
    assert (details["from_segment"], details["to_segment"], details["name"]) == ("healthy", "terrorist", "Customer x")
    assert sent[0].title.startswith("Customer x (x): healthy -> terrorist (health score ")
    # The health model's own tables pass their suites.
    check = run_table_suites(sqlfiles.Statements(world.con), world.settings, NOW,
                             ["customer_health", "health_snapshots"])
    for result in check.results:
        assert result.rows > 0
        assert result.failures == [], [(o.expectation, o.observed_value) for o in result.failures]


def test_the_customer_health_suite_catches_a_customer_without_health(world: World) -> None:
    world.land(ordinary_customers(["o1", "o2"]))
    world.con.execute("delete from health_state where customer_id = 'o2'")
    check = run_table_suites(sqlfiles.Statements(world.con), world.settings, NOW,
                             ["customer_health"])
    assert {o.expectation for o in check.results[0].failures} == {"expect_column_values_to_be_in_set(has_health_row)"}
    with pytest.raises(duckdb.Error):  # the view is the health model's: the suite only reads it
        world.con.execute("insert into customer_health (customer_id) values ('zz')")
