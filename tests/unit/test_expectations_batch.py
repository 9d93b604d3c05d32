"""Batch suites in the landing transaction: rows failing a critical expectation are quarantined whole,
with the reason; nothing is dropped, nothing lands twice, and the contract's dead letters stay apart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from customer_health import sqlfiles
from customer_health.config import QualitySettings, Settings
from expectations.batch import BatchQualityHook
from ingest.files import load_files
from ingest.landing import Lander, RawBatch
from tests.factories import customer, encode, payment, ticket, visit

# The ops views of suite runs, failures and quarantine: test oracles read with plain SQL (no product code runs them).
RUN_HISTORY = """
-- The ops page: recent suite runs (both scopes), newest first; $scope null = both.
select run_id, run_at, scope, suite, trigger, batch_id, rows_validated, expectations, failed, critical_failed,
    quarantined, success, duration_ms
from quality_runs
where $scope::VARCHAR is null or scope = $scope::VARCHAR
order by run_id desc
limit $limit;
"""
FAILURE_HISTORY = """
-- The ops page: failed expectations over time (both scopes), newest first.
select result_id, run_id, run_at, scope, suite, expectation, critical, unexpected_count, element_count,
    observed_value, failing_sample, error, batch_id
from quality_results
where not success
order by result_id desc
limit $limit;
"""
QUARANTINE_RECENT = """
-- The ops page: recently quarantined messages with their reasons and origin, newest first.
select quarantine_id, quarantined_at, batch_id, event_type, event_id, customer_id, topic, "partition", "offset",
    source_file, source_line, expectations, reason, decode(raw) as raw_text
from quarantine
order by quarantine_id desc
limit $limit;
"""
QUARANTINE_SUMMARY = """
-- Quarantined messages per event type and failed expectation (a message failing two counts under both).
with failed as (
    select event_type, unnest(expectations) as expectation, quarantined_at from quarantine
)
select event_type, expectation, count(*) as messages, max(quarantined_at) as last_at
from failed
group by all
order by messages desc, event_type, expectation;
"""
LATEST_RESULTS = """
-- The ops page: every expectation of the latest table run of each suite, failures first.
with latest as (
    select suite, max(run_id) as run_id from quality_runs where scope = 'table' group by suite
)
select r.suite, r.run_id, r.run_at, r.expectation, r.column_name, r.critical, r.success, r.element_count,
    r.unexpected_count, r.observed_value, r.failing_sample, r.error
from quality_results r
join latest l using (suite, run_id)
order by r.success, not r.critical, r.suite, r.expectation;
"""


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "batch.duckdb"))
    sqlfiles.apply_schema(connection)
    yield connection
    connection.close()


def lander(con: duckdb.DuckDBPyConnection, **quality: object) -> Lander:
    return Lander(con, "g", 65536, before_land=[BatchQualityHook(Settings(quality=QualitySettings(**quality)))])


def kafka_batch(messages: list[tuple[str, bytes]]) -> RawBatch:
    batch = RawBatch()
    for offset, (event_type, raw) in enumerate(messages):
        batch.add_kafka(event_type, f"{event_type}-topic", 1, 100 + offset, b"key", raw, None)
    return batch


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


GOOD = [
    ("payments", encode(payment("p-ok"))), ("tickets", encode(ticket("t-ok"))),
    ("visits", encode(visit("v-ok"))), ("customers", encode(customer("k-ok"))),
]
SUSPECT = [  # valid for the contract, refused by a critical batch expectation
    ("payments", encode(payment("p-huge", amount=5_000_000))),
    ("tickets", encode(ticket("t-long", handling_minutes=3000, compensation_granted=250_000))),
    ("visits", encode(visit("v-future", occurred_at="2099-01-01T00:00:00Z"))),
    ("customers", encode(customer("k-cancelled-first", cancelled_at="2024-06-01T00:00:00Z"))),
]


def test_failing_rows_are_quarantined_whole_with_the_reason_and_nothing_is_dropped(
    con: duckdb.DuckDBPyConnection,
) -> None:
    messages = GOOD[:2] + SUSPECT + GOOD[2:] + [("tickets", b"{broken json")]
    result = lander(con).land(kafka_batch(messages), "kafka")
    assert (result.messages, result.landed, result.quarantined, result.dead_lettered, result.duplicates) == \
        (9, 4, 4, 1, 0)
    assert result.landed + result.quarantined + result.dead_lettered + result.duplicates == result.messages
    quarantined = rows(con, 'select event_type, event_id, customer_id, topic, "partition", "offset", raw, '
                            "expectations, reason, batch_id from quarantine order by quarantine_id")
    assert [(r[0], r[1], r[3], r[4], r[5]) for r in quarantined] == [
        ("payments", "p-huge", "payments-topic", 1, 102),
        ("tickets", "t-long", "tickets-topic", 1, 103),
        ("visits", "v-future", "visits-topic", 1, 104),
        ("customers", "k-cancelled-first", "customers-topic", 1, 105),
    ]
    assert [bytes(r[6]) for r in quarantined] == [raw for _, raw in SUSPECT]  # the message, byte for byte
    assert quarantined[1][7] == ["expect_column_values_to_be_between(compensation_granted)",
                                 "expect_column_values_to_be_between(handling_minutes)"]
    assert quarantined[1][8] == ("expect_column_values_to_be_between(compensation_granted): "
                                 "compensation_granted=250000.0; "
                                 "expect_column_values_to_be_between(handling_minutes): handling_minutes=3000.0")
    assert quarantined[0][8] == "expect_column_values_to_be_between(amount): amount=5000000.0"
    assert {r[9] for r in quarantined} == {result.batch_id}
    # Quarantined rows neither land nor count as dead letters.
    landed = rows(con, "select event_id from payments union all select event_id from tickets "
                       "union all select event_id from visits union all select event_id from customer_events")
    assert sorted(e for (e,) in landed) == ["k-ok", "p-ok", "t-ok", "v-ok"]
    assert rows(con, "select reason_code from dead_letter") == [("invalid_json",)]
    assert rows(con, "select quarantined from ingest_batches") == [(4,)]


def test_every_batch_run_is_recorded_and_failures_keep_a_sample(con: duckdb.DuckDBPyConnection) -> None:
    land = lander(con)
    land.land(kafka_batch(GOOD), "kafka")
    land.land(kafka_batch(GOOD[:1] + SUSPECT[:1]), "kafka")
    runs = rows(con, "select batch_id, suite, trigger, rows_validated, failed, critical_failed, quarantined, success "
                     "from quality_runs where scope = 'batch' order by run_id")
    assert runs == [
        (1, "tickets", "pipeline", 1, 0, 0, 0, True), (1, "payments", "pipeline", 1, 0, 0, 0, True),
        (1, "visits", "pipeline", 1, 0, 0, 0, True), (1, "customers", "pipeline", 1, 0, 0, 0, True),
        (2, "payments", "pipeline", 2, 1, 1, 1, False),
    ]
    (expectation, critical, unexpected, elements, sample, observed), = rows(
        con, "select expectation, critical, unexpected_count, element_count, failing_sample, observed_value "
             "from quality_results")
    assert (expectation, critical, unexpected, elements) == ("expect_column_values_to_be_between(amount)", True, 1, 2)
    (row,) = json.loads(sample)
    assert (row["event_id"], row["amount"], row["ordinal"]) == ("p-huge", 5_000_000.0, 1)
    assert json.loads(observed)["examples"] == [5_000_000.0]


def test_a_replayed_good_batch_is_not_quarantined_and_lands_once(con: duckdb.DuckDBPyConnection) -> None:
    land = lander(con)
    first = land.land(kafka_batch(GOOD + GOOD), "kafka")
    again = land.land(kafka_batch(GOOD), "kafka")
    assert (first.landed, first.duplicates, first.quarantined) == (4, 4, 0)
    assert (again.landed, again.duplicates, again.quarantined) == (0, 4, 0)


def test_the_limits_come_from_the_settings(con: duckdb.DuckDBPyConnection) -> None:
    result = lander(con, max_amount=10_000_000.0).land(kafka_batch(SUSPECT[:1]), "kafka")
    assert (result.landed, result.quarantined) == (1, 0)


def test_batch_suites_can_be_switched_off(con: duckdb.DuckDBPyConnection) -> None:
    result = lander(con, batch_suites=False).land(kafka_batch(SUSPECT[:1]), "kafka")
    assert (result.landed, result.quarantined) == (1, 0)
    assert rows(con, "select count(*) from quality_runs") == [(0,)]


def test_a_file_backfill_quarantines_with_file_and_line(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    path = tmp_path / "payments.jsonl"
    path.write_bytes(b"\n".join([encode(payment("p1")), encode(payment("p2", amount=9e9)), encode(payment("p3"))]))
    totals = load_files(lander(con), [path])
    assert (totals.rows, totals.landed, totals.dead_lettered) == (3, 2, 0)
    assert rows(con, "select event_id, source_file, source_line, topic from quarantine") == \
        [("p2", str(path), 2, None)]
    assert rows(con, "select distinct trigger from quality_runs") == [("load",)]


def test_the_ops_page_statements_read_runs_failures_and_quarantine(con: duckdb.DuckDBPyConnection) -> None:
    lander(con).land(kafka_batch(GOOD + SUSPECT[:2]), "kafka")
    history = con.execute(RUN_HISTORY, {"scope": None, "limit": 10}).fetchall()
    assert len(history) == 4
    assert len(con.execute(RUN_HISTORY, {"scope": "table", "limit": 10}).fetchall()) == 0
    failures = con.execute(FAILURE_HISTORY, {"limit": 10}).fetchall()
    assert {f[5] for f in failures} == {"expect_column_values_to_be_between(amount)",
                                        "expect_column_values_to_be_between(handling_minutes)",
                                        "expect_column_values_to_be_between(compensation_granted)"}
    recent = con.execute(QUARANTINE_RECENT, {"limit": 10}).fetchall()
    assert [r[4] for r in recent] == ["t-long", "p-huge"] and json.loads(recent[0][-1])["event_id"] == "t-long"
    summary = con.execute(QUARANTINE_SUMMARY).fetchall()
    assert [(r[0], r[1], r[2]) for r in summary] == [
        ("payments", "expect_column_values_to_be_between(amount)", 1),
        ("tickets", "expect_column_values_to_be_between(compensation_granted)", 1),
        ("tickets", "expect_column_values_to_be_between(handling_minutes)", 1),
    ]


def test_the_schedule_runs_the_table_suites_and_prunes_old_history(con: duckdb.DuckDBPyConnection,
                                                                   tmp_path: Path) -> None:
    from customer_health.alerts.pipeline import QualityAndAlerts

    lander(con).land(kafka_batch(GOOD + SUSPECT[:1]), "kafka")
    old = datetime(2020, 1, 1)
    con.execute("update quality_runs set run_at = ?", [old])
    con.execute("update quality_results set run_at = ?", [old])
    now = datetime.now().replace(microsecond=0)
    qa = QualityAndAlerts(con, Settings(db_path=tmp_path / "batch.duckdb"), clock=lambda: now)
    check = qa.run_table_suites(con.cursor())
    assert {r.suite for r in check.results} >= {"tickets", "payments", "visits", "customers", "topics"}
    assert rows(con, "select distinct scope, trigger from quality_runs") == [("table", "schedule")]
    assert rows(con, "select count(*) from quality_results where run_at < now()::timestamp - interval 1 day") \
        == [(0,)]
    latest = con.execute(LATEST_RESULTS).fetchall()
    assert latest and {r[0] for r in latest} >= {"tickets", "topics"}
