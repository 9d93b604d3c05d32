"""Every suite passes on good data and fails on a broken fixture, naming the expectation that caught it.

Event suites run on a real DuckDB file landed through the contract (then broken with SQL, as data that
got past an older contract would be); a table stands in for the health model's customer_health view, so
each case sets the rows the suite reads.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from customer_health import sqlfiles
from customer_health.config import EVENT_TYPES, QualitySettings, Settings
from expectations.registry import SUITES
from expectations.runner import SuiteResult, get_runner
from expectations.tables import run_table_suites
from ingest.landing import Lander, RawBatch
from tests.factories import FACTORIES, encode

NOW = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
CUSTOMERS = [f"c{i}" for i in range(8)]

CUSTOMER_HEALTH_STAND_IN = """
drop view customer_health;
create table customer_health (
    customer_id varchar, name varchar, segment varchar, health_score double,
    components struct(engagement double, payment_behaviour double, support_burden double,
                      complaint_behaviour double, profitability double),
    next_step varchar, drifting_toward varchar, days_to_threshold double, cost_to_serve_90d double,
    support_minutes_90d double);
"""


def iso(t: datetime) -> str:
    return t.isoformat() + "Z"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Good data: every customer has a profile and recent events of every type; healthy health rows."""
    path = tmp_path_factory.mktemp("suites") / "good.duckdb"
    con = duckdb.connect(str(path))
    sqlfiles.apply_schema(con)
    batch = RawBatch()
    offset = 0
    for i, cid in enumerate(CUSTOMERS):
        for event_type, make in FACTORIES.items():
            for k in range(3):
                occurred = NOW - timedelta(minutes=5 + 7 * i + k)
                event = make(f"{event_type[0]}-{cid}-{k}", cid, occurred_at=iso(occurred))
                batch.add_kafka(event_type, event_type, 0, offset, cid.encode(), encode(event), None)
                offset += 1
    result = Lander(con, "g", 65536).land(batch, "kafka")
    assert result.landed == len(CUSTOMERS) * 12
    con.execute(CUSTOMER_HEALTH_STAND_IN)
    for i, cid in enumerate(CUSTOMERS):
        con.execute(
            "insert into customer_health values (?, ?, 'healthy', ?, {'engagement': 80, 'payment_behaviour': 90, "
            "'support_burden': 70, 'complaint_behaviour': 95, 'profitability': 60}, 'none', null, null, 120.5, 30)",
            [cid, f"Customer {cid}", 70 + i],
        )
        con.execute(
            "insert into health_snapshots (snapshot_id, customer_id, snapshot_at, reason, health_score, segment, "
            "components, revenue_90d, cost_to_serve_90d, margin_90d, complaint_index_90d, support_minutes_90d) "
            "values (nextval('health_snapshot_ids'), ?, ?, 'daily', 70, 'healthy', {'engagement': 80, "
            "'payment_behaviour': 90, 'support_burden': 70, 'complaint_behaviour': 95, 'profitability': 60}, "
            "500, 120.5, 379.5, 0, 30)",
            [cid, NOW - timedelta(hours=1)],
        )
    con.close()
    return path


@pytest.fixture
def con(template: Path, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    copy = tmp_path / "case.duckdb"
    shutil.copy(template, copy)
    connection = duckdb.connect(str(copy))
    yield connection
    connection.close()


def run(con: duckdb.DuckDBPyConnection, suite: str, quality: QualitySettings | None = None) -> SuiteResult:
    settings = Settings(quality=quality or QualitySettings())
    check = run_table_suites(sqlfiles.Statements(con), settings, NOW, [suite])
    (result,) = check.results
    return result


def failed(result: SuiteResult) -> set[str]:
    return {o.expectation for o in result.failures}


@pytest.mark.parametrize("suite", SUITES)
def test_every_suite_passes_on_good_data(con: duckdb.DuckDBPyConnection, suite: str) -> None:
    result = run(con, suite)
    assert result.rows > 0
    assert result.failures == [], [(o.expectation, o.observed_value, o.error) for o in result.failures]


# (suite, SQL that breaks the good data, the failing expectations, whether the suite then fails)
BROKEN = [
    ("tickets", "update tickets set category = 'gossip' where event_id = 't-c1-0'",
     {"expect_column_values_to_be_in_set(category)"}, True),
    ("tickets", "update tickets set handling_minutes = 5000 where event_id = 't-c1-0'",
     {"expect_column_values_to_be_between(handling_minutes)"}, True),
    ("tickets", "update tickets set compensation_granted = 250000 where event_id = 't-c1-0'",
     {"expect_column_values_to_be_between(compensation_granted)"}, True),
    ("tickets", "update tickets set occurred_at = occurred_at + interval 2 day where event_id = 't-c1-0'",
     {"expect_column_values_to_be_between(minutes_ahead_of_now)"}, True),
    ("tickets", "delete from customers where customer_id = 'c2'; "
                "update ingest_batches set committed_at = committed_at - interval 2 hour",
     {"expect_column_values_to_be_in_set(customer_status)"}, False),
    ("payments", "update payments set currency = 'XXX' where event_id = 'p-c3-1'",
     {"expect_column_values_to_be_in_set(currency)"}, True),
    ("payments", "update payments set amount = 0 where event_id = 'p-c3-1'",
     {"expect_column_values_to_be_between(amount)"}, True),
    ("payments", "update payments set kind = 'gift', status = 'lost' where event_id = 'p-c3-1'",
     {"expect_column_values_to_be_in_set(kind)", "expect_column_values_to_be_in_set(status)"}, True),
    ("visits", "update visits set duration_seconds = 1e6, pages = 99999 where event_id = 'v-c4-2'",
     {"expect_column_values_to_be_between(duration_seconds)", "expect_column_values_to_be_between(pages)"}, True),
    ("visits", "update visits set channel = 'fax' where event_id = 'v-c4-2'",
     {"expect_column_values_to_be_in_set(channel)"}, True),
    ("customers", "update customer_events set kind = 'b2x' where event_id = 'c-c5-0'",
     {"expect_column_values_to_be_in_set(kind)"}, True),
    ("customers", "update customer_events set cancelled_at = signed_up_at - interval 1 day where event_id = 'c-c5-0'",
     {"expect_column_values_to_be_between(cancelled_minutes_after_signup)"}, True),
    ("customers", "update customer_events set signed_up_at = now()::timestamp + interval 30 day "
                  "where event_id = 'c-c5-0'",
     {"expect_column_values_to_be_between(signed_up_minutes_ahead_of_now)"}, True),
    ("customer_health", "update customer_health set health_score = 130 where customer_id = 'c1'",
     {"expect_column_values_to_be_between(health_score)"}, True),
    ("customer_health", "update customer_health set components = struct_pack(engagement := 120.0, "
                       "payment_behaviour := 90.0, support_burden := 70.0, complaint_behaviour := 95.0, "
                       "profitability := 60.0) where customer_id = 'c1'",
     {"expect_column_values_to_be_between(engagement)"}, True),
    ("customer_health", "update customer_health set segment = 'vip', next_step = 'pray' where customer_id = 'c1'",
     {"expect_column_values_to_be_in_set(segment)", "expect_column_values_to_be_in_set(next_step)"}, True),
    ("customer_health", "insert into customer_health select * from customer_health where customer_id = 'c1'",
     {"expect_column_values_to_be_unique(customer_id)"}, True),
    ("customer_health", "delete from customer_health where customer_id = 'c1'",
     {"expect_column_values_to_be_in_set(has_health_row)"}, True),
    ("customer_health", "update customer_health set cost_to_serve_90d = -5 where customer_id = 'c1'",
     {"expect_column_values_to_be_between(cost_to_serve_90d)"}, True),
    ("health_snapshots", "update health_snapshots set health_score = -1, segment = 'bogus' where customer_id = 'c2'",
     {"expect_column_values_to_be_between(health_score)", "expect_column_values_to_be_in_set(segment)"}, True),
    ("health_snapshots", "insert into health_snapshots select * from health_snapshots where customer_id = 'c2'",
     {"expect_compound_columns_to_be_unique(customer_id, snapshot_at)"}, False),
    ("topics", "update visits set occurred_at = occurred_at - interval 7 hour",
     {"expect_column_pair_values_a_to_be_greater_than_b(max_age_minutes, last_event_age_minutes)"}, True),
    ("topics", "update payments set occurred_at = occurred_at - interval 3 day",
     {"expect_column_pair_values_a_to_be_greater_than_b(max_age_minutes, last_event_age_minutes)"}, True),
]


@pytest.mark.parametrize(("suite", "breakage", "expected", "suite_fails"), BROKEN,
                         ids=[f"{b[0]}-{sorted(b[2])[0]}" for b in BROKEN])
def test_a_broken_fixture_fails_naming_the_expectation(
    con: duckdb.DuckDBPyConnection, suite: str, breakage: str, expected: set[str], suite_fails: bool
) -> None:
    for statement in breakage.split("; "):
        con.execute(statement)
    result = run(con, suite)
    assert failed(result) == expected
    assert result.success is not suite_fails
    outcome = result.outcome(sorted(expected)[0])
    assert outcome.critical is suite_fails
    if outcome.unexpected_count:  # row-level: the sample shows the offending row
        assert outcome.failing_sample and len(outcome.failing_sample) == min(outcome.unexpected_count, 10)


def test_ids_must_be_present_and_unique(con: duckdb.DuckDBPyConnection) -> None:
    """The tables' primary keys hold ids unique; the suites still check the frames they are given."""
    frame = sqlfiles.Statements(con).run("quality/table_frame_tickets", {
        "now": NOW, "window_start": NOW - timedelta(days=1), "grace_start": NOW - timedelta(hours=1),
        "max_rows": 1000,
    }).df()
    broken = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    broken.loc[1, "customer_id"] = None
    result = get_runner().validate("tickets", "table", broken, {
        "future_tolerance_minutes": 10, "max_handling_minutes": 1440, "max_compensation": 1e5})
    assert failed(result) == {"expect_column_values_to_be_unique(event_id)",
                              "expect_column_values_to_not_be_null(customer_id)"}


def test_volume_outside_the_band_of_its_trailing_average_is_a_warning(con: duckdb.DuckDBPyConnection) -> None:
    # 24 trailing hours of 20 visits an hour, then 300 in the last hour (the fixture's own visits add 24).
    con.execute("""
        insert into visits (event_id, customer_id, occurred_at, session_id, channel, duration_seconds, batch_id)
        select 'bulk-' || h || '-' || n, 'c1', ?::timestamp - to_hours(h) - to_minutes(30), 's', 'web', 10, 1
        from range(1, 25) t(h), range(20) u(n)
        union all
        select 'burst-' || n, 'c1', ?::timestamp - to_minutes(n % 50), 's', 'web', 10, 1 from range(276) v(n)
    """, [NOW, NOW])
    result = run(con, "topics")
    assert failed(result) == {"expect_column_pair_values_a_to_be_greater_than_b(volume_upper_bound, recent_events)"}
    assert result.success  # a warning: check still exits 0
    (row,) = result.outcome(sorted(failed(result))[0]).failing_sample
    assert (row["topic"], row["recent_events"], row["volume_upper_bound"]) == ("visits", 300.0, 60.0)


def test_a_topic_that_never_had_an_event_is_not_judged_on_freshness(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("delete from visits")
    assert run(con, "topics").failures == []


def test_every_suite_runs_and_passes_on_a_database_with_no_rows(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "empty.duckdb"))
    sqlfiles.apply_schema(con)
    check = run_table_suites(sqlfiles.Statements(con), Settings(), NOW)
    # The topics frame has a row per topic, with or without events.
    assert [(r.suite, r.rows) for r in check.results] == [
        (name, len(EVENT_TYPES) if name == "topics" else 0) for name in SUITES]
    assert all(r.outcomes for r in check.results)
    assert check.success
    con.close()


def test_great_expectations_is_imported_once_and_only_by_validation() -> None:
    assert get_runner() is get_runner()
    assert "great_expectations" in sys.modules


def test_the_command_line_starts_without_great_expectations() -> None:
    import subprocess

    code = ("import sys, customer_health.cli as cli; cli.build_parser(); import ingest.service; "
            "print(sorted(m for m in sys.modules if m.startswith('great_expectations'))[:1])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_validation_leaves_great_expectations_as_it_found_it() -> None:
    """Validations (two runners at once on two threads too) leave GX's Expectation as they found it, and an
    expectation's configuration follows its fields."""
    from great_expectations.expectations.expectation import Expectation

    built_on_access = Expectation.__dict__["configuration"]
    frame = pd.DataFrame({"ordinal": [0, 1], "event_id": ["e0", "e1"], "customer_id": ["c0", "c1"],
                          "handling_minutes": [3.0, -1.0], "compensation_requested": [None, None],
                          "compensation_granted": [None, None], "minutes_ahead_of_now": [-1.0, -2.0]})
    result = get_runner().validate("tickets", "batch", frame, {
        "future_tolerance_minutes": 10, "max_handling_minutes": 1440, "max_compensation": 1e5}, quick_pass=True)
    assert failed(result) == {"expect_column_values_to_be_between(handling_minutes)"}
    assert result.outcome("expect_column_values_to_be_between(handling_minutes)").failing_positions == (1,)
    assert Expectation.__dict__["configuration"] is built_on_access
    # two runners validating at once on two threads (each has its own lock) leave it as it was too
    from concurrent.futures import ThreadPoolExecutor

    from expectations.runner import SuiteRunner

    runners = [get_runner(), SuiteRunner()]
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda i: runners[i % 2].validate("tickets", "batch", frame, {
            "future_tolerance_minutes": 10, "max_handling_minutes": 1440, "max_compensation": 1e5}), range(8)))
    assert all(failed(r) == {"expect_column_values_to_be_between(handling_minutes)"} for r in outcomes)
    assert Expectation.__dict__["configuration"] is built_on_access
    expectation = get_runner().suite("tickets", "batch").expectations[0]
    description = expectation.description
    try:
        expectation.description = "changed"
        assert expectation.configuration.description == "changed"
    finally:
        expectation.description = description
