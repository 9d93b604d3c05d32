"""`customer-health load` of one's own exports, loaded again or stopped part way: every row accounted for once,
a file missing a required column refused up front, and what landed before a stopping file summarised."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import duckdb

from tests.conftest import Env
from tests.factories import customer, encode, ticket, visit


def read(env: Env, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(env.db_path), read_only=True) as con:
        return con.execute(sql, params).fetchall()


def counts(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_file_loaded_again_dead_letters_its_bad_rows_once_and_counts_them_as_already_dead_lettered(
    env: Env, tmp_path: Path,
) -> None:
    jsonl = tmp_path / "tickets.jsonl"
    lines = [encode(ticket("t1")), b"{broken", encode(ticket("t2", handling_minutes=-5)), encode(ticket("t3"))]
    jsonl.write_bytes(b"\n".join(lines) + b"\n")
    csv = tmp_path / "visits.csv"
    csv.write_text("event_id,customer_id,occurred_at,session_id,channel,duration_seconds\n"
                   "v1,c1,2026-11-01T09:00:00Z,s1,web,30\nv2,c1,2026-11-01T09:00:00Z,s2,fax,30\n")
    first = counts(env.cli("load", str(jsonl), str(csv), "--json"))
    assert first == {"rows": 6, "landed": 3, "duplicates": 0, "dead_lettered": 3, "already_dead_lettered": 0,
                     "quarantined": 0}
    again = counts(env.cli("load", str(jsonl), str(csv), "--json"))
    assert read(env, "select count(*) from dead_letter") == [(3,)]
    assert env.status()["dead_letter"]["total"] == 3
    assert again == {"rows": 6, "landed": 0, "duplicates": 3, "dead_lettered": 0, "already_dead_lettered": 3,
                     "quarantined": 0}
    text = env.cli("load", str(jsonl))
    assert text.returncode == 0, text.stderr
    assert "4 rows: 0 landed, 2 duplicates, 0 dead-lettered, 2 bad rows already dead-lettered by an earlier load, " \
           "0 quarantined" in text.stdout
    # The export grew: its known bad rows are known, a new bad row (also one repeating a known row's bytes on
    # another line) is dead-lettered.
    jsonl.write_bytes(b"\n".join([*lines, b"{broken", b"[1]", encode(ticket("t4"))]) + b"\n")
    grown = counts(env.cli("load", str(jsonl), "--json"))
    assert grown == {"rows": 7, "landed": 1, "duplicates": 2, "dead_lettered": 2, "already_dead_lettered": 2,
                     "quarantined": 0}
    assert read(env, "select source_line, reason_code from dead_letter where source_file = ? order by 1",
                [str(jsonl)]) == [(2, "invalid_json"), (3, "out_of_range"), (5, "invalid_json"), (6, "not_an_object")]
    # The same bad line in another file is that file's dead letter.
    other = tmp_path / "2026-12_tickets.jsonl"
    other.write_bytes(b"{broken\n")
    assert counts(env.cli("load", str(other), "--json"))["dead_lettered"] == 1


VISITS_HEADER = "event_id,customer_id,occurred_at,session_id,channel,duration_seconds\n"


def test_a_load_stopped_by_a_file_summarises_what_the_files_before_it_landed_and_names_those_not_read(
    env: Env, tmp_path: Path,
) -> None:
    good = tmp_path / "visits.jsonl"
    good.write_bytes(b"\n".join([encode(visit("v1")), encode(visit("v2")), b"{broken"]) + b"\n")
    malformed = tmp_path / "more_visits.csv"  # its fifth line has a field too many: unreadable as CSV
    malformed.write_text(VISITS_HEADER + "v3,c1,2026-11-01T09:00:00Z,s,web,30\n" * 3
                         + "bad,c1,2026-11-01T09:00:00Z,s,web,30,EXTRA\n")
    later = tmp_path / "tickets.jsonl"
    later.write_bytes(encode(ticket("t1")) + b"\n")
    result = env.cli("load", str(good), str(malformed), str(later), "--json")
    assert result.returncode == 1
    error = result.stderr.splitlines()[-1]  # the lines before it: the dead-letter warning of the first file
    assert error.startswith(f"customer-health: {malformed}: cannot read as CSV"), result.stderr
    assert error.endswith(f"; the load stopped at this file (nothing of it landed); 1 file after it not read: {later}")
    document = json.loads(result.stdout)
    assert document == {
        "rows": 3, "landed": 2, "duplicates": 0, "dead_lettered": 1, "already_dead_lettered": 0, "quarantined": 0,
        "files": [{"file": str(good), "rows": 3, "landed": 2, "duplicates": 0, "dead_lettered": 1,
                   "already_dead_lettered": 0, "quarantined": 0}],
        "stopped_by": {"file": str(malformed), "error": document["stopped_by"]["error"]},
        "not_read": [str(later)],
    }
    assert "Expected Number of Columns: 6 Found: 7" in document["stopped_by"]["error"]
    assert read(env, "select count(*) from visits") == [(2,)]
    assert read(env, "select count(*) from tickets") == [(0,)]
    text = env.cli("load", str(good), str(malformed), str(later))
    assert text.returncode == 1
    assert text.stdout.splitlines() == [
        f"the load stopped at {malformed}; 1 file after it not read. Landed before it stopped (health is derived by "
        "the next load):",
        f"  {good}: 3 rows: 0 landed, 2 duplicates, 0 dead-lettered, 1 bad row already dead-lettered by an earlier "
        "load, 0 quarantined",
    ]


def test_a_csv_or_parquet_file_without_a_required_column_is_refused_before_anything_lands(
    env: Env, tmp_path: Path,
) -> None:
    good = tmp_path / "tickets.jsonl"
    good.write_bytes(encode(ticket("t1")) + b"\n")
    no_channel = tmp_path / "visits.csv"
    no_channel.write_text("event_id,customer_id,occurred_at,session_id,Channel,pages\n"
                          "v1,c1,2026-11-01T09:00:00Z,s1,web,3\n")
    no_profile = tmp_path / "customers.parquet"
    with duckdb.connect() as con:
        con.execute("copy (select 'k1' as event_id, 'c1' as customer_id, timestamptz '2026-11-01 09:00:00+00' as "
                    "occurred_at, 'Dana' as name, 'b2c' as kind) to ?", [str(no_profile)])
    for path, event_type, missing in ((no_channel, "visits", "channel, duration_seconds"),
                                      (no_profile, "customers", "plan, signed_up_at")):
        result = env.cli("load", str(good), str(path))
        assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
        assert f"{path}: a {event_type} file needs a column for every required field; missing: {missing} " \
               "(its columns: event_id, customer_id, occurred_at, " in result.stderr
        assert "Nothing was loaded" in result.stderr and "Traceback" not in result.stderr
    assert "Channel, pages; names are case-sensitive" in env.cli("load", str(no_channel)).stderr
    for table in ("tickets", "visits", "customers", "dead_letter"):
        assert read(env, f"select count(*) from {table}") == [(0,)], table
    as_tickets = env.cli("load", str(no_channel), "--type", "tickets")  # checked against the type it is loaded as
    assert "a tickets file needs a column for every required field; missing: ticket_id, action, category, channel, " \
           "handling_minutes, escalated (" in as_tickets.stderr


def test_a_signup_day_without_a_time_lands_as_its_midnight_utc_from_csv_jsonl_and_parquet_date(
    env: Env, tmp_path: Path,
) -> None:
    csv = tmp_path / "customers.csv"
    csv.write_text("event_id,customer_id,occurred_at,name,kind,plan,signed_up_at,cancelled_at\n"
                   "k1,c1,2026-11-01T09:00:00Z,Ann,b2c,basic,2024-03-01,2026-10-31\n"
                   "k2,c2,2026-11-01T09:00:00Z,Bob,b2c,basic,03/01/2024,\n"
                   "k3,c3,2026-11-01T09:00:00Z,Cy,b2c,basic,2024-02-30,\n")
    jsonl = tmp_path / "more_customers.jsonl"
    jsonl.write_bytes(b"\n".join([
        encode(customer("k4", "c4", signed_up_at="2024-03-02")),
        encode(customer("k5", "c5", occurred_at="2026-11-01")),  # an event's time stays a timestamp with offset
    ]) + b"\n")
    parquet = tmp_path / "last_customers.parquet"
    with duckdb.connect() as con:
        con.execute("copy (select 'k6' as event_id, 'c6' as customer_id, timestamptz '2026-11-01 09:00:00+00' as "
                    "occurred_at, 'Dee' as name, 'b2b' as kind, 'pro' as plan, date '2024-03-03' as signed_up_at) "
                    "to ?", [str(parquet)])
    assert counts(env.cli("load", str(csv), str(jsonl), str(parquet), "--json"))["landed"] == 3
    assert read(env, "select customer_id, signed_up_at::varchar, cancelled_at::varchar from customers order by 1") == [
        ("c1", "2024-03-01 00:00:00", "2026-10-31 00:00:00"), ("c4", "2024-03-02 00:00:00", None),
        ("c6", "2024-03-03 00:00:00", None),
    ]
    assert read(env, "select source_line, reason from dead_letter order by source_file, source_line") == [
        (2, "signed_up_at must be an RFC 3339 timestamp with offset or a day (YYYY-MM-DD, taken as 00:00 UTC), "
            "got '03/01/2024'"),
        (3, "signed_up_at must be an RFC 3339 timestamp with offset or a day (YYYY-MM-DD, taken as 00:00 UTC), "
            "got '2024-02-30'"),
        (2, "occurred_at must be an RFC 3339 timestamp with offset, got '2026-11-01'"),
    ]
