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
from customer_health.config import Settings
from expectations.runner import SuiteResult
from expectations.tables import run_table_suites

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
