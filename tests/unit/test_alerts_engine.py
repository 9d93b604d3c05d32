"""The alert engine and its sources on a real DuckDB file with the whole schema: dedup, cooldown, circuit
breaker, catching up. Tests write the health model's segment_changes directly; the drift test stands a
table in for the customer_health view, to set each customer's drift.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from customer_health.alerts.engine import AlertCandidate, AlertEngine
from customer_health.alerts.pipeline import QualityAndAlerts
from customer_health.alerts.sources import AlertSources
from customer_health.config import AlertSettings, Settings
from customer_health.sqlfiles import apply_schema

T0 = datetime(2026, 11, 2, 12, 0)

# The columns of the customer_health view the drift source reads.
CUSTOMER_HEALTH_STAND_IN = """
drop view customer_health;
create table customer_health (
    customer_id varchar, name varchar, segment varchar, health_score double, drifting_toward varchar,
    days_to_threshold double, score_change_7d double, score_change_30d double);
"""


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(tmp_path / "alerts.duckdb"))
    apply_schema(connection)
    yield connection
    connection.close()


def settings(tmp_path: Path, **alerts: object) -> Settings:
    base = {"evaluate_interval_s": 1.0, "flood_threshold": 20, "flood_window_minutes": 10.0}
    return Settings(db_path=tmp_path / "alerts.duckdb", alerts=AlertSettings(**(base | alerts)))


def add_batch(con: duckdb.DuckDBPyConnection, batch_id: int, at: datetime, source: str = "kafka",
              messages: int = 100, dead: int = 0, min_latency_ms: float = 50.0) -> None:
    con.execute(
        "insert into ingest_batches (batch_id, source, started_at, committed_at, messages, landed, duplicates, "
        "dead_lettered, quarantined, min_latency_ms, max_latency_ms) values (?, ?, ?, ?, ?, ?, 0, ?, 0, ?, ?)",
        [batch_id, source, at, at, messages, messages - dead, dead, min_latency_ms, min_latency_ms],
    )


def add_change(con: duckdb.DuckDBPyConnection, customer: str, before: str | None, after: str, batch_id: int | None,
               at: datetime = T0, score: float = 50.0) -> None:
    con.execute("insert into segment_changes (customer_id, changed_at, from_segment, to_segment, health_score, "
                "batch_id, refresh_kind, change_seq) values (?, ?, ?, ?, ?, ?, 'incremental', "
                "nextval('segment_change_seq'))",
                [customer, at, before, after, score, batch_id])


def set_lag(con: duckdb.DuckDBPyConnection, lag: int, at: datetime) -> None:
    con.execute("insert or replace into consumer_lag (topic, \"partition\", end_offset, next_offset, lag, observed_at) "
                "values ('visits', 0, 200000, 200000 - ?, ?, ?)", [lag, lag, at])


def alerts(con: duckdb.DuckDBPyConnection, where: str = "true") -> list[tuple]:
    return con.execute(
        f"select source, subject, severity, delivery_status, summary_alert_id from alerts where {where} "
        "order by alert_id"
    ).fetchall()


def make(con: duckdb.DuckDBPyConnection, tmp_path: Path, clock: Clock, **alert_settings: object) -> QualityAndAlerts:
    return QualityAndAlerts(con, settings(tmp_path, **alert_settings), clock=clock)


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ("healthy", "at_risk", True), ("champion", "at_risk", True), ("at_risk", "unprofitable", True),
        ("healthy", "terrorist", True), ("unprofitable", "terrorist", True), (None, "terrorist", True),
        (None, "unprofitable", True), ("churned", "terrorist", True),
        ("at_risk", "healthy", False), ("terrorist", "unprofitable", False), (None, "healthy", False),
        (None, "at_risk", False), ("healthy", "churned", False), ("healthy", "healthy", False),
        ("champion", "healthy", False),
    ],
)
def test_a_segment_change_alerts_only_when_it_is_for_the_worse(
    tmp_path: Path, before: str | None, after: str, expected: bool
) -> None:
    assert AlertSources(settings(tmp_path), started_at=T0).worsened(before, after) is expected


def test_segment_alerts_fire_once_per_change_with_severity_and_payload(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    clock = Clock(T0)
    qa = make(con, tmp_path, clock)
    con.execute("insert into customers values ('c1', 'Acme Ltd', 'b2b', 'gold', null, ?, null, ?)", [T0, T0])
    add_batch(con, 1, T0)
    add_change(con, "c1", "healthy", "at_risk", 1, score=41)
    add_change(con, "c2", "at_risk", "terrorist", 1, score=12)
    add_change(con, "c3", "at_risk", "healthy", 1)
    report = qa.evaluate_alerts(con.cursor())
    assert [(a.source, a.subject, a.severity) for a in report.sent] == [
        ("segment", "c1", "warning"), ("segment", "c2", "critical"),
    ]
    first = report.sent[0].payload
    assert first["title"] == "Acme Ltd (c1): healthy -> at_risk (health score 41)"
    assert first["details"]["from_segment"] == "healthy" and first["details"]["to_segment"] == "at_risk"
    assert alerts(con) == [("segment", "c1", "warning", "logged", None), ("segment", "c2", "critical", "logged", None)]
    # Nothing new: nothing fires; the cursor moved past what was read.
    clock.advance(seconds=5)
    assert qa.evaluate_alerts(con.cursor()).sent == []
    assert len(alerts(con)) == 2


def test_dedup_and_cooldown_per_source_and_subject_with_escalation(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    engine = AlertEngine(AlertSettings(cooldown_minutes=60))
    lag = AlertCandidate("pipeline", "lag", "warning", "Consumer lag 60,000 messages")
    assert len(engine.dispatch(con, [lag, lag], T0).sent) == 1  # duplicates in one evaluation: one alert
    repeat = engine.dispatch(con, [lag], T0 + timedelta(minutes=30))
    assert (len(repeat.sent), repeat.suppressed) == (0, 1)
    worse = AlertCandidate("pipeline", "lag", "critical", "Consumer lag 900,000 messages")
    assert len(engine.dispatch(con, [worse], T0 + timedelta(minutes=31)).sent) == 1  # more severe: through
    other = AlertCandidate("pipeline", "staleness", "warning", "No data")
    assert len(engine.dispatch(con, [other], T0 + timedelta(minutes=32)).sent) == 1  # other subject: own key
    assert engine.dispatch(con, [worse], T0 + timedelta(minutes=90)).suppressed == 1
    assert len(engine.dispatch(con, [worse], T0 + timedelta(minutes=92)).sent) == 1  # cooldown over
    state = con.execute("select suppressed, last_severity from alert_state where subject = 'lag'").fetchone()
    assert state == (0, "critical")
    # A new engine (pipeline restart) keeps the cooldown from alert_state.
    restarted = AlertEngine(AlertSettings(cooldown_minutes=60))
    assert restarted.dispatch(con, [worse], T0 + timedelta(minutes=100)).suppressed == 1


def test_a_flood_becomes_one_summary_and_the_rest_is_held_not_lost(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    clock = Clock(T0)
    qa = make(con, tmp_path, clock)
    add_batch(con, 1, T0)
    for i in range(1, 501):  # bad data turns 500 customers red at once
        add_change(con, f"c{i:03d}", "healthy", "terrorist" if i % 5 == 0 else "at_risk", 1)
    report = qa.evaluate_alerts(con.cursor())
    assert len(report.sent) == 1 and len(report.held) == 500
    summary = report.sent[0]
    assert (summary.source, summary.subject, summary.severity) == ("segment", "*", "critical")
    assert summary.payload["details"]["held"] == 500
    assert summary.payload["details"]["by_group"] == {"healthy -> at_risk": 400, "healthy -> terrorist": 100}
    assert len(summary.payload["details"]["sample"]) == 10
    held = con.execute(
        "select count(*), count(distinct subject), min(summary_alert_id), max(summary_alert_id) "
        "from alerts where delivery_status = 'held'"
    ).fetchone()
    assert held == (500, 500, summary.alert_id, summary.alert_id)
    # The flood goes on: held under the open breaker, no new message ...
    clock.advance(minutes=2)
    add_batch(con, 2, clock.now)
    for i in range(501, 531):
        add_change(con, f"c{i:03d}", "healthy", "at_risk", 2)
    assert qa.evaluate_alerts(con.cursor()).sent == []
    # ... until the breaker closes: one follow-up summary counts what came after the first.
    clock.advance(minutes=11)
    closing = qa.evaluate_alerts(con.cursor())
    assert [a.subject for a in closing.sent] == ["*"]
    assert closing.sent[0].payload["details"]["held"] == 30
    assert closing.sent[0].payload["details"]["follows_summary_alert_id"] == summary.alert_id
    # Then single alerts flow again.
    clock.advance(minutes=1)
    add_batch(con, 3, clock.now)
    add_change(con, "c999", "healthy", "at_risk", 3)
    assert [a.subject for a in qa.evaluate_alerts(con.cursor()).sent] == ["c999"]


def test_catching_up_is_not_news_alerts_reflect_the_state_reached(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    clock = Clock(T0)
    qa = make(con, tmp_path, clock, catch_up_lag_messages=5000)
    set_lag(con, 30_000, T0)  # behind by more than catch_up_lag_messages, under the lag alert's bound
    add_batch(con, 1, T0)
    # Replaying a backlog: c1 dips and recovers, c2 passes through at_risk into terrorist, c3 only worsens.
    add_change(con, "c1", "healthy", "at_risk", 1)
    add_change(con, "c1", "at_risk", "healthy", 1)
    add_change(con, "c2", "healthy", "at_risk", 1)
    add_change(con, "c2", "at_risk", "terrorist", 1)
    add_change(con, "c3", "champion", "at_risk", 1)
    add_change(con, "c4", None, "healthy", 1)
    add_change(con, "c4", "healthy", "terrorist", 1)
    add_change(con, "c5", "champion", "healthy", 1)
    assert qa.evaluate_alerts(con.cursor()).sent == []
    assert con.execute("select count(*) from alert_cursors where name = 'segment_changes'").fetchone() == (0,)
    # Caught up: one alert per customer whose net state got worse, from the state before the backlog.
    clock.advance(seconds=30)
    set_lag(con, 0, clock.now)
    sent = qa.evaluate_alerts(con.cursor()).sent
    assert [(a.subject, a.payload["details"]["from_segment"], a.payload["details"]["to_segment"]) for a in sent] == [
        ("c2", "healthy", "terrorist"), ("c3", "champion", "at_risk"), ("c4", None, "terrorist"),
    ]
    assert sent[2].title == "c4: new -> terrorist (health score 50)"
    assert sent[0].payload["details"]["changes_netted"] == 2


def test_old_records_landing_mean_catching_up_even_without_recorded_lag(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    clock = Clock(T0)
    qa = make(con, tmp_path, clock, catch_up_latency_s=300)
    add_batch(con, 1, T0, min_latency_ms=3_600_000)  # the freshest record of the batch is an hour old
    add_change(con, "c1", "healthy", "terrorist", 1)
    assert qa.evaluate_alerts(con.cursor()).sent == []
    clock.advance(seconds=5)
    add_batch(con, 2, clock.now, min_latency_ms=80)
    assert [a.subject for a in qa.evaluate_alerts(con.cursor()).sent] == ["c1"]


def test_a_history_backfill_is_not_news(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    qa = make(con, tmp_path, Clock(T0))
    add_batch(con, 1, T0, source="file:/data/history/tickets.jsonl")
    add_change(con, "c1", "healthy", "terrorist", 1)
    add_change(con, "c2", None, "unprofitable", 1)
    assert qa.evaluate_alerts(con.cursor()).sent == []
    # A live change after the backfill is news again, measured from the backfilled state.
    add_batch(con, 2, T0)
    add_change(con, "c1", "terrorist", "unprofitable", 2)
    add_change(con, "c2", "unprofitable", "terrorist", 2)
    assert [a.subject for a in qa.evaluate_alerts(con.cursor()).sent] == ["c2"]


def test_drift_toward_a_threshold_alerts_once_per_cooldown(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    clock = Clock(T0)
    qa = make(con, tmp_path, clock, drift_horizon_days=30, drift_interval_s=60.0,
              cooldown_minutes_by_source={"drift": 1440.0})
    con.execute(CUSTOMER_HEALTH_STAND_IN)
    con.execute("""insert into customer_health values
        ('c1', 'Acme', 'healthy', 62, 'terrorist', 12.4, -5, -18),
        ('c2', 'Beta', 'healthy', 70, 'unprofitable', 80, -1, -3),
        ('c3', 'Gamma', 'at_risk', 40, null, null, 0, 0)""")
    sent = qa.evaluate_alerts(con.cursor()).sent
    assert [(a.source, a.subject) for a in sent] == [("drift", "c1")]
    assert sent[0].title == "Acme (c1): healthy drifting toward terrorist, ~12 days to the threshold " \
                            "(health score 62, -18 in 30 days)"
    con.execute("update customer_health set days_to_threshold = 5 where customer_id = 'c2'")
    clock.advance(seconds=30)
    assert drift_subjects(qa) == []  # read every drift_interval_s only
    clock.advance(seconds=30)
    assert drift_subjects(qa) == ["c2"]
    clock.advance(hours=23)
    assert drift_subjects(qa) == []
    clock.advance(hours=2)
    assert drift_subjects(qa) == ["c2", "c1"]  # both cooldowns are over: nearest threshold first


def drift_subjects(qa: QualityAndAlerts) -> list[str]:
    return [a.subject for a in qa.evaluate_alerts(qa.con.cursor()).sent if a.source == "drift"]


def test_critical_expectation_failures_alert_once_per_expectation(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    clock = Clock(T0)
    qa = make(con, tmp_path, clock)
    add_batch(con, 1, T0)
    for result_id, batch_id, critical in [(1, 7, True), (2, 8, True), (3, 8, False)]:
        con.execute(
            "insert into quality_results values (?, ?, ?, 'batch', 'payments', "
            "'expect_column_values_to_be_between(amount)', 'expect_column_values_to_be_between', 'amount', "
            "?, false, 100, 3, null, '[]', null, ?)", [result_id, result_id, T0, critical, batch_id])
    sent = qa.evaluate_alerts(con.cursor()).sent
    assert [(a.source, a.subject, a.severity) for a in sent] == [
        ("quality", "batch:payments.expect_column_values_to_be_between(amount)", "critical"),
    ]
    assert sent[0].title == ("Critical expectation failed on landed payments: "
                             "expect_column_values_to_be_between(amount); 6 rows quarantined in 2 batch(es), "
                             "last batch 8")
    clock.advance(seconds=5)
    assert qa.evaluate_alerts(con.cursor()).sent == []


def test_consumer_lag_staleness_and_dead_letter_spikes_alert(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    clock = Clock(T0)
    qa = make(con, tmp_path, clock, lag_bound_messages=50_000, staleness_minutes=15, dead_letter_min_rate=0.05,
              dead_letter_spike_factor=3.0, dead_letter_min_messages=100)
    for i in range(24):  # a day of batches with 1% dead letters
        add_batch(con, i + 1, T0 - timedelta(hours=i + 1), messages=1000, dead=10)
    add_batch(con, 100, T0 - timedelta(minutes=1), messages=1000, dead=300)  # 30% now
    con.execute("insert into dead_letter (dead_letter_id, dead_lettered_at, batch_id, event_type, topic, raw, "
                "reason_code, reason) values (1, ?, 100, 'payments', 'p', 'x', 'invalid_json', 'not JSON')", [T0])
    set_lag(con, 100_000, T0)
    sent = {(a.source, a.subject): a for a in qa.evaluate_alerts(con.cursor()).sent}
    assert set(sent) == {("pipeline", "lag"), ("dead_letter", "rate")}
    assert sent[("pipeline", "lag")].title == "Consumer lag 100,000 messages (bound 50,000)"
    assert sent[("dead_letter", "rate")].payload["details"]["rate"] == 0.3
    assert sent[("dead_letter", "rate")].payload["details"]["reasons"] == [
        {"event_type": "payments", "reason_code": "invalid_json", "messages": 1}]
    # No Kafka batch for 16 minutes: stale.
    clock.advance(minutes=16)
    set_lag(con, 0, clock.now)
    sent = qa.evaluate_alerts(con.cursor()).sent
    assert [(a.source, a.subject, a.severity) for a in sent] == [("pipeline", "staleness", "critical")]
    assert json.loads(json.dumps(sent[0].payload)) == sent[0].payload


def set_events_clock(con: duckdb.DuckDBPyConnection, event_time: datetime) -> None:
    """The database's pipeline runs with [clock] source = "events": the model's now is ``event_time``."""
    con.execute("insert or replace into model_clock values (true, 'events', ?, ?)", [event_time, T0])


@pytest.mark.parametrize("model_offset", [timedelta(days=9), -timedelta(days=30)], ids=["ahead", "behind"])
def test_staleness_compares_the_wall_clock_with_landing_on_the_events_clock(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, model_offset: timedelta
) -> None:
    clock = Clock(T0)
    qa = make(con, tmp_path, clock, staleness_minutes=15)
    add_batch(con, 1, T0 - timedelta(seconds=1))
    set_events_clock(con, T0 + model_offset)  # the model's time runs ~1440x the wall clock (the demo)
    assert qa.evaluate_alerts(con.cursor()).sent == []  # a batch landed a second ago: not stale
    for i in range(2, 12):  # batches every second of wall time while the model's clock races ahead
        clock.advance(seconds=1)
        add_batch(con, i, clock.now)
        set_events_clock(con, T0 + model_offset + timedelta(days=i))
        assert qa.evaluate_alerts(con.cursor()).sent == []
    # Nothing landed for 16 wall-clock minutes: stale, whatever the events clock says.
    clock.advance(minutes=16)
    sent = qa.evaluate_alerts(con.cursor()).sent
    assert [(a.source, a.subject, a.severity) for a in sent] == [("pipeline", "staleness", "critical")]
    assert sent[0].title == "No data landed from Kafka for 16 min (bound 15 min)"


def test_lag_dead_letters_and_cooldowns_run_on_the_wall_clock_on_the_events_clock(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    clock = Clock(T0)
    qa = make(con, tmp_path, clock, lag_bound_messages=50_000, dead_letter_min_rate=0.05,
              dead_letter_spike_factor=3.0, dead_letter_min_messages=100, cooldown_minutes=60)
    set_events_clock(con, T0 + timedelta(days=9))
    add_batch(con, 1, T0 - timedelta(minutes=1), messages=1000, dead=300)
    set_lag(con, 100_000, T0)
    sent = {(a.source, a.subject) for a in qa.evaluate_alerts(con.cursor()).sent}
    assert sent == {("pipeline", "lag"), ("dead_letter", "rate")}
    # A simulated day later on the model's clock but 2 s of wall time: still in cooldown.
    clock.advance(seconds=2)
    set_events_clock(con, T0 + timedelta(days=10))
    add_batch(con, 2, clock.now, messages=1000, dead=300)
    set_lag(con, 100_000, clock.now)
    assert qa.evaluate_alerts(con.cursor()).sent == []
    assert con.execute("select max(created_at) from alerts").fetchone() == (T0,)  # alerts are stamped wall clock


def test_alerts_stamped_on_the_model_clock_by_an_older_pipeline_hold_no_cooldown_or_flood(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """A demo database from before alerts ran on the wall clock holds alerts stamped days ahead of it."""
    ahead = T0 + timedelta(days=9)
    con.execute("insert into alert_state values ('pipeline', 'staleness', 1, ?, 'critical', 0, ?)", [ahead, ahead])
    con.execute("insert into alerts (alert_id, created_at, source, subject, severity, title, payload, "
                "delivery_status, attempts) select i, ?, 'pipeline', 'staleness', 'critical', 'old', '{}', "
                "'logged', 0 from range(1001, 1031) t(i)", [ahead])  # more than flood_threshold (20)
    add_batch(con, 1, T0)
    clock = Clock(T0)
    qa = make(con, tmp_path, clock, staleness_minutes=15)
    clock.advance(minutes=16)  # nothing landed since: stale
    report = qa.evaluate_alerts(con.cursor())
    assert [(a.source, a.subject, a.delivery_status) for a in report.sent] == [("pipeline", "staleness", "logged")]
    assert report.held == [] and report.suppressed == 0


def test_a_drift_alert_stamped_on_the_model_clock_by_an_older_pipeline_holds_no_cooldown(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    ahead = T0 + timedelta(days=9)
    con.execute(CUSTOMER_HEALTH_STAND_IN)
    con.execute("insert into customer_health values ('c1', 'Acme', 'healthy', 62, 'terrorist', 12.4, -5, -18)")
    con.execute("insert into alert_state values ('drift', 'c1', 1, ?, 'warning', 0, ?)", [ahead, ahead])
    qa = make(con, tmp_path, Clock(T0), drift_horizon_days=30)
    assert drift_subjects(qa) == ["c1"]
