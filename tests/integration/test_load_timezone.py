"""`customer-health load --assume-timezone`: an export's times without an offset (a Parquet TIMESTAMP without time
zone, as pandas writes one; CSV text such as 2026-01-15 10:00:00) read in a named zone and stored in UTC; without
it, a Parquet file of such times is refused before anything lands."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb

from tests.conftest import Env


def read(env: Env, sql: str) -> list[tuple]:
    with duckdb.connect(str(env.db_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def naive_parquet(tmp_path: Path) -> Path:
    path = tmp_path / "visits.parquet"
    with duckdb.connect() as con:
        con.execute(f"""copy (select * from (values
                ('v1', 'c1', timestamp '2026-01-15 10:00:00', 's1', 'web', 30.0),
                ('v2', 'c1', timestamp '2026-07-15 10:00:00.250', 's2', 'app', 12.5))
            t(event_id, customer_id, occurred_at, session_id, channel, duration_seconds))
            to '{path}' (format parquet)""")
    return path


def test_a_parquet_file_of_times_without_a_zone_is_refused_without_assume_timezone(env: Env, tmp_path: Path) -> None:
    done = env.cli("load", str(naive_parquet(tmp_path)))
    assert done.returncode == 1
    assert "occurred_at is a TIMESTAMP without time zone" in done.stderr and "--assume-timezone ZONE" in done.stderr
    assert read(env, "select count(*) from visits") == [(0,)]


def test_times_without_an_offset_are_read_in_the_assumed_zone_and_stored_in_utc(env: Env, tmp_path: Path) -> None:
    done = env.cli("load", str(naive_parquet(tmp_path)), "--assume-timezone", "Europe/Berlin", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["landed"] == 2
    # Berlin is UTC+1 in January, UTC+2 in July
    assert read(env, "select event_id, occurred_at from visits order by 1") == [
        ("v1", datetime(2026, 1, 15, 9, 0)), ("v2", datetime(2026, 7, 15, 8, 0, 0, 250000))]
    csv = tmp_path / "tickets.csv"
    csv.write_text("event_id,customer_id,occurred_at,ticket_id,action,category,channel,handling_minutes,escalated\n"
                   "t1,c1,2026-03-01 10:15:00,T1,opened,bug,email,5,false\n"
                   "t2,c1,2026-03-01T11:00:00+01:00,T1,resolved,bug,email,3,false\n")
    done = env.cli("load", str(csv), "--assume-timezone", "america/new_york", "--json")  # any case
    assert done.returncode == 0 and json.loads(done.stdout)["landed"] == 2, done.stderr
    # the naive time in New York (UTC-5 on 1 March), the one with an offset as it says
    assert read(env, "select event_id, occurred_at from tickets order by 1") == [
        ("t1", datetime(2026, 3, 1, 15, 15)), ("t2", datetime(2026, 3, 1, 10, 0))]


def test_without_assume_timezone_a_csv_time_without_an_offset_is_a_dead_letter(env: Env, tmp_path: Path) -> None:
    csv = tmp_path / "visits.csv"
    csv.write_text("event_id,customer_id,occurred_at,session_id,channel,duration_seconds\n"
                   "v1,c1,2026-03-01 10:15:00,s1,web,30\n")
    done = env.cli("load", str(csv), "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["dead_lettered"] == 1, done.stderr
    assert read(env, "select reason_code from dead_letter") == [("invalid_timestamp",)]


def test_an_unknown_zone_is_refused(env: Env, tmp_path: Path) -> None:
    done = env.cli("load", str(naive_parquet(tmp_path)), "--assume-timezone", "Mars/Olympus")
    assert done.returncode == 1 and "not a time zone name" in done.stderr
