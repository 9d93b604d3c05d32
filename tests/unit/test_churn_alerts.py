"""The "silently fading" alert: through the alert engine's sources, once per crossing, backfills not news."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from customer_health import sqlfiles
from customer_health.alerts.engine import AlertEngine
from customer_health.alerts.sources import AlertSources
from customer_health.churn import model
from customer_health.config import Settings
from customer_health.db import open_owner
from ingest.landing import Lander, batch_from_rows
from tests.factories import customer, payment

NOW = datetime(2026, 12, 1, 9)


@pytest.fixture
def db(tmp_path: Path):
    settings = Settings(db_path=tmp_path / "a.duckdb").with_overrides(
        churn__alert_p_alive_below=0.3, churn__valuable_min_transactions=4, churn__valuable_min_lifetime_value=100.0)
    con = open_owner(settings)
    yield con, settings
    con.close()


def land(con, settings, events: list[tuple[str, dict]], source: str = "kafka") -> int:
    rows = [(etype, "t", i, json.dumps(e).encode()) for i, (etype, e) in enumerate(events, 1)]
    result = Lander(con, "test", 65536).land(batch_from_rows(rows), source)
    model.rollup_batch(con, settings, result.batch_id)
    return result.batch_id


def weekly(customer_id: str, amount: float, weeks: int = 4) -> list[tuple[str, dict]]:
    return [("payments", payment(f"{customer_id}-{i}", customer_id, occurred_at=f"2026-01-{1 + 7 * i:02d}T12:00:00Z",
                                 amount=amount)) for i in range(weeks)]


def setup_portfolio(con, settings) -> None:
    land(con, settings, [("customers", customer("pv", "valuable", name="Valued Ltd")),
                         *weekly("valuable", 50.0), *weekly("small", 5.0)])
    sqlfiles.Statements(con).run("churn/insert_fit", {
        "fitted_at": NOW, "as_of": datetime(2026, 2, 1), "window_start": datetime(2026, 1, 1).date(),
        "window_end": datetime(2026, 2, 1).date(), "r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426,
        "log_likelihood": -1.0, "customers": 2, "converged": True, "message": "converged", "trigger": "manual",
        "duration_ms": 1.0})
    model.score_customers(con, settings, None, datetime(2026, 1, 23))  # the baseline: everyone alive


def evaluate(con, settings, sources: AlertSources, engine: AlertEngine):
    with con.cursor() as cur:
        cur.execute("begin")
        evaluation = sources.evaluate(cur, NOW)
        report = engine.dispatch(cur, evaluation.candidates, NOW)
        sources.save_cursors(cur, evaluation, NOW)
        cur.execute("commit")
    return [c for c in evaluation.candidates if c.source == "fading"], report


def test_a_valuable_customer_going_silent_raises_one_fading_alert(db):
    con, settings = db
    setup_portfolio(con, settings)
    sources, engine = AlertSources(settings, started_at=NOW), AlertEngine(settings.alerts)
    assert evaluate(con, settings, sources, engine)[0] == []

    # Months later (a batch's scoring as the pipeline does it): both fell below 0.3, only one used to be valuable.
    batch_id = land(con, settings, [("payments", payment("other", "someone-else", occurred_at="2026-11-30T12:00:00Z"))])
    result = model.score_customers(con, settings, None, datetime(2026, 11, 30), batch_id=batch_id)
    assert result.fading == 1
    candidates, report = evaluate(con, settings, sources, engine)
    (alert,) = candidates
    assert alert.subject == "valuable" and alert.severity == "warning"
    assert alert.title.startswith("Valued Ltd (valuable): silently fading, P(alive) ")
    assert "4 purchases worth 200.00 EUR" in alert.title
    assert alert.details["p_alive"] < 0.3 <= alert.details["previous_p_alive"]
    assert alert.details["threshold"] == 0.3 and alert.details["lifetime_value"] == 200.0
    stored = con.execute("select source, subject, severity from alerts").fetchall()
    assert stored == [("fading", "valuable", "warning")] and [a.subject for a in report.sent] == ["valuable"]

    # Read once: the next evaluation has nothing new, and staying below the threshold is not a new crossing.
    model.score_customers(con, settings, None, datetime(2026, 12, 1), batch_id=batch_id)
    assert evaluate(con, settings, sources, engine)[0] == []


def test_fading_found_while_loading_a_file_backfill_is_not_news(db):
    con, settings = db
    setup_portfolio(con, settings)
    batch_id = land(con, settings, [("payments", payment("old", "someone-else", occurred_at="2026-11-30T12:00:00Z"))],
                    source="file:history.jsonl")
    assert model.score_customers(con, settings, None, datetime(2026, 11, 30), batch_id=batch_id).fading == 1
    candidates, _ = evaluate(con, settings, AlertSources(settings, started_at=NOW), AlertEngine(settings.alerts))
    assert candidates == []
    assert con.execute("select count(*) from alerts").fetchone()[0] == 0
