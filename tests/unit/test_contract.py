"""The event contract and the landing transaction, on a real DuckDB file (no broker needed)."""

from __future__ import annotations

import errno
import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from customer_health.config import Settings
from customer_health.db import open_owner
from customer_health.sqlfiles import statement
from ingest.landing import Lander, RawBatch
from tests.factories import BAD_MESSAGES, customer, encode, payment, ticket, visit


@pytest.fixture
def lander(tmp_path: Path) -> Lander:
    con = open_owner(Settings(db_path=tmp_path / "h.duckdb"))
    yield Lander(con, group_id="g", max_message_bytes=4096)
    con.close()


def batch(*messages: tuple[str, bytes], start_offset: int = 0) -> RawBatch:
    b = RawBatch()
    for i, (event_type, raw) in enumerate(messages):
        b.add_kafka(event_type, event_type, 0, start_offset + i, b"k", raw, 1_700_000_000_000)
    return b


def test_valid_events_land_typed_with_times_in_utc(lander: Lander) -> None:
    result = lander.land(batch(
        ("tickets", encode(ticket("t1", occurred_at="2026-03-29T01:30:00+01:00", sentiment=-0.5,
                                  compensation_requested="20.00", compensation_granted=5))),
        ("payments", encode(payment("p1", amount="19.99", due_at="2026-04-01T00:00:00-05:00"))),
        ("visits", encode(visit("v1", occurred_at="2026-03-29T02:30:00Z"))),
        ("customers", encode(customer("k1", household_id="h1", cancelled_at="2026-05-01T12:00:00+02:00"))),
    ), "kafka")
    assert (result.landed, result.dead_lettered, result.duplicates) == (4, 0, 0)
    con = lander.con
    row = con.execute("select occurred_at::varchar, sentiment, compensation_granted::varchar from tickets").fetchone()
    assert row == ("2026-03-29 00:30:00", -0.5, "5.00")
    assert con.execute("select amount::varchar, due_at::varchar from payments").fetchone() == \
        ("19.9900", "2026-04-01 05:00:00")
    assert con.execute("select household_id, cancelled_at::varchar from customers").fetchone() == \
        ("h1", "2026-05-01 10:00:00")


def test_unknown_fields_are_kept_not_fatal(lander: Lander) -> None:
    without_pages = {k: v for k, v in visit("v4", utm="spring").items() if k != "pages"}
    lander.land(batch(("visits", encode(visit("v1", referrer="newsletter"))),
                      ("visits", encode(visit("v2"))),
                      ("visits", encode(visit("v3", pages=None))),  # a contract field set to null is no extra
                      ("visits", encode(without_pages))), "kafka")  # an unknown field beside a missing optional one
    extras = dict(lander.con.execute("select event_id, extra from visits").fetchall())
    assert json.loads(extras["v1"])["referrer"] == "newsletter"
    assert extras["v2"] is None
    assert extras["v3"] is None
    assert json.loads(extras["v4"])["utm"] == "spring"


@pytest.mark.parametrize(("event_type", "raw", "code"), BAD_MESSAGES, ids=[c for _, _, c in BAD_MESSAGES])
def test_each_kind_of_bad_message_is_dead_lettered_with_its_reason(
    lander: Lander, event_type: str, raw: bytes, code: str
) -> None:
    result = lander.land(batch((event_type, raw), ("visits", encode(visit("fine")))), "kafka")
    assert (result.landed, result.dead_lettered) == (1, 1)
    row = lander.con.execute('select reason_code, reason, raw, topic, "offset" from dead_letter').fetchone()
    assert row[0] == code
    assert len(row[1]) > 10
    assert bytes(row[2]) == raw
    assert (row[3], row[4]) == (event_type, 0)


def test_a_message_with_several_problems_lists_them_all(lander: Lander) -> None:
    lander.land(batch(("tickets", encode(ticket("t", action="shouted", handling_minutes=-1, escalated=1)))), "k")
    reason = lander.con.execute("select reason from dead_letter").fetchone()[0]
    assert "action must be one of" in reason and "handling_minutes must be >= 0" in reason
    assert "escalated must be true or false" in reason


def test_a_value_of_the_wrong_type_is_named_in_json_words_with_the_value(lander: Lander) -> None:
    lander.land(batch(
        ("tickets", encode(ticket("t1", handling_minutes="12.5", escalated="yes", ticket_id=7))),
        ("visits", encode(visit("v1", pages=3.5, duration_seconds={"s": 1}, session_id=["a"]))),
        ("payments", encode(payment("p1", amount="1,879.76"))),
    ), "kafka")
    reasons = dict(lander.con.execute("select event_type, reason from dead_letter").fetchall())
    assert reasons == {
        "tickets": "ticket_id must be a string, got a number 7; handling_minutes must be a number, got a string "
                   "'12.5'; escalated must be true or false, got a string 'yes'",
        "visits": "session_id must be a string, got an array; duration_seconds must be a number, got an object; "
                  "pages must be an integer, got a number 3.5",
        "payments": "amount must be a decimal number, got a string '1,879.76'",
    }


def test_an_oversized_message_names_the_setting_that_bounds_it(lander: Lander) -> None:
    raw = encode(visit("v1", note="x" * 5000))
    lander.land(batch(("visits", raw)), "kafka")
    assert lander.con.execute("select reason from dead_letter").fetchone() == (
        f"message is {len(raw)} bytes, over the limit of 4096 bytes (pipeline.max_message_bytes)",)


def test_duplicate_event_ids_land_once_within_and_across_batches(lander: Lander) -> None:
    first = lander.land(batch(("tickets", encode(ticket("t1"))), ("tickets", encode(ticket("t1")))), "kafka")
    second = lander.land(batch(("tickets", encode(ticket("t1", handling_minutes=99))), start_offset=2), "kafka")
    assert (first.landed, first.duplicates, second.landed, second.duplicates) == (1, 1, 0, 1)
    assert lander.con.execute("select handling_minutes from tickets").fetchall() == [(12.5,)]


def test_profile_upserts_keep_the_latest_and_ignore_late_older_events(lander: Lander) -> None:
    lander.land(batch(("customers", encode(customer("a", plan="premium", occurred_at="2026-02-01T00:00:00Z")))), "k")
    lander.land(batch(("customers", encode(customer("b", plan="basic", occurred_at="2026-01-01T00:00:00Z")))), "k")
    assert lander.con.execute("select plan from customers").fetchall() == [("premium",)]
    assert lander.con.execute("select count(*) from customer_events").fetchone() == (2,)


def test_offsets_are_recorded_in_the_batch_transaction_and_follow_the_log(lander: Lander) -> None:
    lander.land(batch(("visits", encode(visit("a"))), ("visits", encode(visit("b"))), start_offset=10), "kafka")
    assert lander.stored_offsets_from_cursor() == {("visits", 0): 12}
    lander.land(batch(("visits", encode(visit("c"))), start_offset=0), "kafka")  # the broker's log was reset
    assert lander.stored_offsets_from_cursor() == {("visits", 0): 1}


def test_a_failing_batch_lands_nothing(lander: Lander) -> None:
    def broken_hook(con: duckdb.DuckDBPyConnection, ctx: object) -> None:
        raise RuntimeError("hook failed")

    lander.after_land.append(broken_hook)
    with pytest.raises(RuntimeError):
        lander.land(batch(("visits", encode(visit("a"))), ("visits", b"{bad")), "kafka")
    counts = lander.con.execute(
        "select (select count(*) from visits), (select count(*) from dead_letter), "
        "(select count(*) from consumer_offsets), (select count(*) from ingest_batches)"
    ).fetchone()
    assert counts == (0, 0, 0, 0)


def test_a_failed_batch_reports_its_cause_when_duckdb_already_ended_the_transaction(
    lander: Lander, caplog: pytest.LogCaptureFixture,
) -> None:
    def disk_full(con: duckdb.DuckDBPyConnection, ctx: object) -> int:
        # What a full disk does to DuckDB: the write fails and the transaction is already gone.
        con.execute("rollback")
        raise OSError(errno.ENOSPC, "No space left on device")

    lander.before_land.append(disk_full)
    with pytest.raises(OSError, match="No space left on device"):
        lander.land(batch(("visits", encode(visit("v1")))), "kafka")
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert any("No space left on device" in m and "nothing of it landed" in m for m in errors), errors
    assert any("cannot rollback" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    lander.before_land.clear()
    assert lander.land(batch(("visits", encode(visit("v1")))), "kafka").landed == 1


@pytest.mark.parametrize("event_type", ["tickets", "payments", "visits", "customers"])
def test_the_required_fields_load_checks_columns_against_are_those_the_contract_reports_missing(
    lander: Lander, event_type: str,
) -> None:
    lander.land(batch((event_type, b"{}")), "kafka")
    reason = lander.con.execute("select reason from dead_letter").fetchone()[0]
    reported = [problem.removesuffix(" is missing") for problem in reason.split("; ")]
    declared = lander.con.execute(f"select contract_required_{event_type}()").fetchone()[0]
    assert reported == declared


def test_a_profile_day_is_its_midnight_utc_whatever_the_session_time_zone(lander: Lander) -> None:
    lander.con.execute("set TimeZone = 'America/New_York'")
    result = lander.land(batch(("customers", encode(customer("k1", signed_up_at="2024-03-01",
                                                             cancelled_at="2024-11-03")))), "kafka")
    assert result.landed == 1
    assert lander.con.execute("select signed_up_at::varchar, cancelled_at::varchar from customers").fetchone() == \
        ("2024-03-01 00:00:00", "2024-11-03 00:00:00")


def test_a_kafka_batch_dead_letters_every_bad_message_without_reading_dead_letter(lander: Lander) -> None:
    for offset in (0, 1):  # the same bad bytes at two offsets are two messages
        assert lander.land(batch(("tickets", b"{broken"), start_offset=offset), "kafka").dead_lettered == 1
    assert lander.con.execute("select count(*) from dead_letter").fetchone() == (2,)
    params = {"now": datetime(2026, 11, 1), "batch_id": 1}

    def plan(name: str) -> str:
        return "\n".join(row[1] for row in lander.con.execute("explain " + statement(name), params).fetchall())

    # The live path's cost: its statement scans no stored dead letter; a file batch's reads the known ones.
    assert ".main.dead_letter" not in plan("ingest/dead_letter_batch")
    assert ".main.dead_letter" in plan("ingest/dead_letter_file_batch")
