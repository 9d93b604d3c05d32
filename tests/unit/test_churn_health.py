"""P(alive) in the health model: it takes a share of engagement and marks silent churners at risk."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from customer_health import sqlfiles
from customer_health.churn import bgnbd, model
from customer_health.config import Settings
from customer_health.db import open_owner
from customer_health.health.queries import customer_health
from customer_health.health.refresh import HealthRefresher
from ingest.landing import Lander, batch_from_rows
from tests.factories import customer, payment, visit

AS_OF = datetime(2026, 11, 20, 12)
CDNOW = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)


def iso(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC).isoformat()


def weekly_charges(customer_id: str, first: datetime, weeks: int) -> list[tuple[str, dict]]:
    return [("payments", payment(f"{customer_id}-p{i}", customer_id, occurred_at=iso(first + timedelta(weeks=i)),
                                 amount=20.0)) for i in range(weeks)]


@pytest.fixture
def world(tmp_path: Path):
    settings = Settings(db_path=tmp_path / "h.duckdb")
    con = open_owner(settings)
    lander = Lander(con, "test", 65536)
    refresher = HealthRefresher(settings.health)
    # Two customers alike in everything the health model saw so far (one visit yesterday, nothing else
    # in 90 days but charges): "regular" bought every week up to last week, "faded" bought every week
    # from January to April and never since.
    events = [
        ("customers", customer("cr", "regular", occurred_at=iso(datetime(2026, 1, 1)))),
        ("customers", customer("cf", "faded", occurred_at=iso(datetime(2026, 1, 1)))),
        ("visits", visit("vr", "regular", occurred_at=iso(AS_OF - timedelta(days=1)))),
        ("visits", visit("vf", "faded", occurred_at=iso(AS_OF - timedelta(days=1)))),
        *weekly_charges("regular", datetime(2026, 5, 4, 12), 28),
        *weekly_charges("faded", datetime(2026, 1, 5, 12), 17),
    ]

    def land(items: list[tuple[str, dict]]) -> int:
        rows = [(etype, "test", i, json.dumps(e).encode()) for i, (etype, e) in enumerate(items, 1)]
        result = lander.land(batch_from_rows(rows), "file:test")
        assert result.dead_lettered == 0
        con.execute("begin")  # what the pipeline's after_land hooks do, in their order, at AS_OF
        model.rollup_batch(con, settings, result.batch_id)
        refresher.refresh_batch(con, result.batch_id, AS_OF)
        con.execute("commit")
        return result.batch_id

    def full_refresh() -> None:
        con.execute("begin")
        refresher.full_refresh(con, AS_OF)
        con.execute("commit")

    def health() -> dict[str, dict]:
        cur = con.execute("select customer_id, p_alive, components, health_score, segment, segment_reason "
                          "from health_state order by customer_id")
        names = [d[0] for d in cur.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cur.fetchall()}

    land(events)
    yield type("World", (), {"con": con, "settings": settings, "land": staticmethod(land),
                             "full_refresh": staticmethod(full_refresh), "health": staticmethod(health),
                             "refresher": refresher})
    con.close()


def test_low_p_alive_lowers_engagement_and_marks_the_customer_at_risk(world):
    world.full_refresh()
    before = world.health()
    # No fitted churn model yet: no P(alive), engagement as before: 100 x (0.5 x 1/30 + 0.5 x (1 - 1/30)) = 50.
    for row in before.values():
        assert row["p_alive"] is None and row["components"]["engagement"] == 50.0
        assert row["segment"] != "at_risk"

    sqlfiles.Statements(world.con).run("churn/insert_fit", {
        "fitted_at": AS_OF, "as_of": AS_OF, "window_start": AS_OF.date(), "window_end": AS_OF.date(),
        "r": CDNOW.r, "alpha": CDNOW.alpha, "a": CDNOW.a, "b": CDNOW.b, "log_likelihood": -1.0, "customers": 2,
        "converged": True, "message": "converged", "trigger": "manual", "duration_ms": 1.0})
    world.full_refresh()
    after = world.health()
    regular, faded = after["regular"], after["faded"]
    # P(alive) as the core computes it: weeks from the first charge to the last one and to AS_OF's day.
    p = bgnbd.p_alive(CDNOW, [27.0, 16.0], [27.0, 16.0],
                      [(AS_OF.date() - datetime(2026, 5, 4).date()).days / 7,
                       (AS_OF.date() - datetime(2026, 1, 5).date()).days / 7])
    np.testing.assert_allclose([regular["p_alive"], faded["p_alive"]], p, rtol=1e-9)
    assert regular["p_alive"] > 0.9 and faded["p_alive"] < 0.01
    share = world.settings.health.engagement_p_alive_share
    for row, p_alive in ((regular, p[0]), (faded, p[1])):
        assert row["components"]["engagement"] == round(100 * ((1 - share) * 0.5 + share * p_alive), 1)
    assert faded["components"]["engagement"] < before["faded"]["components"]["engagement"]
    assert faded["health_score"] < regular["health_score"]
    assert faded["segment"] == "at_risk" and faded["segment_reason"].startswith("silent churn: P(alive) 0.0")
    assert regular["segment"] != "at_risk"

    # The incremental refresh of a batch computes the same P(alive) for the customers it touches.
    world.land([("visits", visit("vf2", "faded", occurred_at=iso(AS_OF - timedelta(hours=2))))])
    assert world.con.execute("select kind from health_refreshes order by refresh_id desc limit 1").fetchone() == (
        "incremental",)
    faded_again = world.health()["faded"]
    assert faded_again["p_alive"] == pytest.approx(faded["p_alive"], rel=1e-12)
    assert faded_again["segment"] == "at_risk"
    # And the customer_health view (what the CLI and the dashboard read) carries it.
    (view_p_alive,) = world.con.execute(
        "select p_alive from customer_health where customer_id = 'faded'").fetchone()
    assert view_p_alive == pytest.approx(faded["p_alive"], rel=1e-12)


def test_a_cancelled_customer_is_not_alive_whatever_its_purchases_say(world):
    """P(alive) models purchases only; a cancellation is a fact: 0 from it on (it read 0.99 for a customer who
    bought every week until cancelling), in the incremental refresh, a full one and the view."""
    sqlfiles.Statements(world.con).run("churn/insert_fit", {
        "fitted_at": AS_OF, "as_of": AS_OF, "window_start": AS_OF.date(), "window_end": AS_OF.date(),
        "r": CDNOW.r, "alpha": CDNOW.alpha, "a": CDNOW.a, "b": CDNOW.b, "log_likelihood": -1.0, "customers": 2,
        "converged": True, "message": "converged", "trigger": "manual", "duration_ms": 1.0})
    world.full_refresh()
    assert world.health()["regular"]["p_alive"] > 0.9
    world.land([("customers", customer("cr2", "regular", occurred_at=iso(AS_OF - timedelta(hours=1)),
                                       cancelled_at=iso(AS_OF - timedelta(hours=1))))])
    regular = world.health()["regular"]
    assert regular["segment"] == "churned" and regular["p_alive"] == 0.0
    world.full_refresh()
    assert world.health()["regular"]["p_alive"] == 0.0
    assert world.con.execute("select p_alive from customer_health where customer_id = 'regular'").fetchone() == (0.0,)
    assert world.health()["faded"]["p_alive"] < 0.01  # the others as before
    # `customer-health customer` says the same, and expects nothing more of them
    doc = customer_health(sqlfiles.Statements(world.con), world.settings, "regular")
    assert doc["segment"] == "churned" and doc["p_alive"] == 0.0
    assert doc["expected_tx_90d"] == 0.0 and doc["expected_value_90d"] == 0.0
    alive = customer_health(sqlfiles.Statements(world.con), world.settings, "faded")
    assert alive["segment"] != "churned" and 0.0 < alive["p_alive"] < 0.01  # the model's, as before
