"""The table suites on a database whose pipeline runs with [clock] source = "events" (the demo): the model's
time follows the events and runs far ahead of the wall clock. Measures of event time (freshness, volume,
events from the future) are taken at the model's now; landing windows stay on the wall clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from customer_health import sqlfiles
from customer_health.cli import main
from customer_health.config import Settings, load_settings
from customer_health.demo import Demo, DemoOptions
from expectations.batch import BatchQualityHook
from expectations.runner import SuiteResult
from expectations.tables import run_table_suites
from ingest.landing import Lander, RawBatch
from tests.factories import customer, encode, payment, ticket, visit

WALL = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
SIMULATED = WALL + timedelta(days=9)  # the demo's model clock, 9 simulated days per 9 wall minutes
TOPIC_FRESHNESS = "expect_column_pair_values_a_to_be_greater_than_b(max_age_minutes, last_event_age_minutes)"


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "events-clock.duckdb"))
    sqlfiles.apply_schema(connection)
    yield connection
    connection.close()


def set_model_clock(con: duckdb.DuckDBPyConnection, source: str, event_time: datetime) -> None:
    con.execute("insert or replace into model_clock values (true, ?, ?, ?)", [source, event_time, WALL])


def add_visits(con: duckdb.DuckDBPyConnection, prefix: str, end: datetime, hours: int, per_hour: int) -> None:
    """``per_hour`` visits in each of the ``hours`` hours before ``end`` (event time)."""
    con.execute("""
        insert into visits (event_id, customer_id, occurred_at, session_id, channel, duration_seconds, batch_id)
        select ? || h || '-' || n, 'c1', ?::timestamp - to_minutes(60 * h + 3 * n + 1), 's', 'web', 10, 1
        from range(?) t(h), range(?) u(n)
    """, [prefix, end, hours, per_hour])


def add_tickets(con: duckdb.DuckDBPyConnection, end: datetime, hours: int) -> None:
    con.execute("""
        insert into tickets (event_id, customer_id, occurred_at, ticket_id, action, category, channel,
            handling_minutes, escalated, batch_id)
        select 'tk-' || h, 'c1', ?::timestamp - to_minutes(60 * h + 1), 'T' || h, 'opened', 'how_to', 'chat', 5,
            false, 1
        from range(?) t(h)
    """, [end, hours])


def topics(con: duckdb.DuckDBPyConnection) -> SuiteResult:
    (result,) = run_table_suites(sqlfiles.Statements(con), Settings(), WALL, ["topics"]).results
    return result


def frame(con: duckdb.DuckDBPyConnection) -> dict[str, dict]:
    rows = sqlfiles.Statements(con).df("quality/table_frame_topics", {
        "now": WALL, "window_minutes": 60.0, "trailing_windows": 24, "band": 3.0, "min_average": 10.0})
    return {r["topic"]: r for r in rows.to_dict("records")}


def demo_like_visits(con: duckdb.DuckDBPyConnection) -> None:
    """The demo's shape: history up to the wall clock, thin in its last hour, then the live world's visits
    from the wall clock on, as far as the simulated clock has run."""
    add_visits(con, "hist-", WALL - timedelta(hours=1), hours=24, per_hour=20)
    add_visits(con, "edge-", WALL, hours=1, per_hour=2)
    add_visits(con, "live-", SIMULATED, hours=9 * 24, per_hour=20)


def test_topics_measure_event_age_and_volume_at_the_model_clock_on_the_events_clock(
    con: duckdb.DuckDBPyConnection,
) -> None:
    demo_like_visits(con)
    add_tickets(con, SIMULATED, hours=9 * 24)
    set_model_clock(con, "events", SIMULATED)
    result = topics(con)
    assert result.failures == [], [(o.expectation, o.observed_value, o.failing_sample) for o in result.failures]
    rows = frame(con)
    assert rows["visits"]["last_event_age_minutes"] == pytest.approx(1.0)  # not -12,959 (against the wall clock)
    assert rows["visits"]["recent_events"] == 20.0  # the model's last hour, judged against its trailing day
    assert rows["visits"]["volume_lower_bound"] == pytest.approx(20 / 3)


def test_a_topic_falling_silent_on_the_events_clock_fails_freshness(con: duckdb.DuckDBPyConnection) -> None:
    # Tickets go on to the model's now; the newest visit is 7 simulated hours old (bound 6 h).
    add_visits(con, "v-", SIMULATED - timedelta(hours=7), hours=24, per_hour=20)
    add_tickets(con, SIMULATED, hours=48)
    set_model_clock(con, "events", SIMULATED)
    result = topics(con)
    assert {o.expectation for o in result.critical_failures} == {TOPIC_FRESHNESS}
    assert [r["topic"] for r in result.outcome(TOPIC_FRESHNESS).failing_sample] == ["visits"]


def test_on_the_wall_clock_the_topics_measure_against_the_wall_clock(con: duckdb.DuckDBPyConnection) -> None:
    demo_like_visits(con)
    set_model_clock(con, "wall", SIMULATED)  # a wall-clock pipeline: its model clock is not the model's now
    rows = frame(con)
    assert rows["visits"]["last_event_age_minutes"] < -12_000  # visits from the future, as the wall clock sees them
    assert rows["visits"]["recent_events"] == 2.0
    assert {o.expectation for o in topics(con).failures} == {
        "expect_column_pair_values_a_to_be_greater_than_b(recent_events, volume_lower_bound)"}


# --- events from the future: beyond the later of the wall clock and the model's clock --------------------------


EVENT_SUITES = ["tickets", "payments", "visits", "customers", "topics"]
SUITE_ARGS = [arg for suite in EVENT_SUITES for arg in ("--suite", suite)]


def demo_pipeline_settings(tmp_path: Path, days_per_minute: float = 1.0) -> Settings:
    """The settings the demo gives its pipeline (its children's environment)."""
    env = Demo(Settings(db_path=tmp_path / "demo.duckdb"), DemoOptions(days_per_minute=days_per_minute))._env(15432)
    return load_settings(None, env={k: v for k, v in env.items() if k.startswith("CUSTOMER_HEALTH_")}).with_overrides(
        db_path=tmp_path / "demo.duckdb")


def iso(moment: datetime) -> str:
    return moment.isoformat() + "Z"


def every_type_at(moment: datetime, tag: str) -> list[tuple[str, dict]]:
    at = iso(moment)
    return [("customers", customer(f"k-{tag}", "c1", occurred_at=at, signed_up_at=iso(WALL - timedelta(days=400)))),
            ("tickets", ticket(f"t-{tag}", "c1", occurred_at=at)),
            ("payments", payment(f"p-{tag}", "c1", occurred_at=at)),
            ("visits", visit(f"v-{tag}", "c1", occurred_at=at))]


def land(lander: Lander, events: list[tuple[str, dict]], first_offset: int = 0) -> tuple[int, int]:
    batch = RawBatch()
    for offset, (event_type, event) in enumerate(events, start=first_offset):
        batch.add_kafka(event_type, event_type, 0, offset, b"c1", encode(event), None)
    result = lander.land(batch, "kafka")
    assert result.dead_lettered == 0
    return result.landed, result.quarantined


def demo_lander(con: duckdb.DuckDBPyConnection, settings: Settings) -> Lander:
    return Lander(con, "g", 65536, before_land=[BatchQualityHook(settings)], clock_source=settings.clock.source)


def test_check_beside_the_demo_gives_the_demo_pipeline_s_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = demo_pipeline_settings(tmp_path)
    con = duckdb.connect(str(settings.db_path))
    sqlfiles.apply_schema(con)
    lander = demo_lander(con, settings)
    # The demo's history up to the wall clock, then its live world 9 simulated days (9 wall minutes) on.
    assert land(lander, every_type_at(WALL - timedelta(days=1), "history")) == (4, 0)
    for day in range(1, 10):
        assert land(lander, every_type_at(WALL + timedelta(days=day), f"live{day}"), 10 * day) == (4, 0)
    pipeline = run_table_suites(sqlfiles.Statements(con), settings, WALL, EVENT_SUITES)
    con.close()
    assert pipeline.success, [(r.suite, [o.expectation for o in r.critical_failures]) for r in pipeline.results]
    # `customer-health check` as a user runs it beside the demo: no demo environment, no config file.
    capsys.readouterr()
    assert main(["check", "--db", str(settings.db_path), *SUITE_ARGS]) == 0
    assert "check at" in capsys.readouterr().out


def test_check_on_a_wall_clock_database_still_fails_events_from_the_future(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "wall.duckdb"
    con = duckdb.connect(str(path))
    sqlfiles.apply_schema(con)
    land(Lander(con, "g", 65536, clock_source="wall"), every_type_at(WALL + timedelta(days=9), "ahead"))
    con.close()
    assert main(["check", "--db", str(path), *SUITE_ARGS]) == 1
    out = capsys.readouterr().out
    assert "FAILED (4 critical)" in out, out
    assert out.count("critical: expect_column_values_to_be_between(minutes_ahead_of_now)") == 4


def test_the_demo_s_live_world_years_ahead_of_the_wall_clock_is_not_quarantined(tmp_path: Path) -> None:
    """At a simulated day per wall minute the live world is ten years ahead after 2.5 days of running: its
    events are measured against the model's clock, not the wall clock."""
    settings = demo_pipeline_settings(tmp_path)
    con = duckdb.connect(str(settings.db_path))
    sqlfiles.apply_schema(con)
    model_time = WALL + timedelta(days=11 * 365)
    con.execute("insert into model_clock values (true, 'events', ?, ?)", [model_time, WALL])
    lander = demo_lander(con, settings)
    assert land(lander, every_type_at(model_time + timedelta(minutes=30), "live")) == (4, 0)
    # An event far ahead of the model's clock (30 simulated days: a month in 30 wall minutes) is still refused.
    assert land(lander, [("visits", visit("v-far", "c1", occurred_at=iso(model_time + timedelta(days=31))))], 10) \
        == (0, 1)
    con.close()


def test_an_events_clock_replay_of_the_past_judges_the_future_by_the_wall_clock(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "replay.duckdb").with_overrides(clock__source="events")
    con = duckdb.connect(str(settings.db_path))
    sqlfiles.apply_schema(con)
    lander = demo_lander(con, settings)
    assert land(lander, every_type_at(WALL - timedelta(days=300), "old")) == (4, 0)
    # Hours of a recorded history per batch: in the model's future, in nobody's.
    assert land(lander, every_type_at(WALL - timedelta(days=200), "later"), 10) == (4, 0)
    assert land(lander, [("visits", visit("v-ahead", "c1", occurred_at=iso(WALL + timedelta(hours=1))))], 20) \
        == (0, 1)
    con.close()


def add_snapshot(con: duckdb.DuckDBPyConnection, customer_id: str, at: datetime, score: float) -> None:
    con.execute(
        "insert into health_snapshots (snapshot_id, customer_id, snapshot_at, reason, health_score, segment, "
        "components, revenue_90d, cost_to_serve_90d, margin_90d, complaint_index_90d, support_minutes_90d) "
        "values (nextval('health_snapshot_ids'), ?, ?, 'daily', ?, 'healthy', {'engagement': 80, "
        "'payment_behaviour': 90, 'support_burden': 70, 'complaint_behaviour': 95, 'profitability': 60}, "
        "500, 120.5, 379.5, 0, 30)", [customer_id, at, score])


def test_the_snapshot_window_ends_at_the_model_clock_on_the_events_clock(con: duckdb.DuckDBPyConnection) -> None:
    """A replay on the events clock: the model's days lie 200 days behind the wall clock."""
    model_time = WALL - timedelta(days=200)
    set_model_clock(con, "events", model_time)
    add_snapshot(con, "c1", model_time - timedelta(hours=12), 70)
    add_snapshot(con, "c2", model_time - timedelta(hours=12), -1)  # out of range: must be judged
    add_snapshot(con, "c3", model_time - timedelta(days=3), -1)  # before the window
    (result,) = run_table_suites(sqlfiles.Statements(con), Settings(), WALL, ["health_snapshots"]).results
    assert result.rows == 2
    assert {o.expectation for o in result.critical_failures} == {"expect_column_values_to_be_between(health_score)"}
