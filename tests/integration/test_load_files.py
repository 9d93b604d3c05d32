"""`customer-health load`: JSONL, CSV and Parquet through the same contract; bad lines keep file and line."""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from tests.conftest import REPO, Env, wait_until
from tests.factories import customer, encode, ticket, visit


def read(env: Env, sql: str) -> list[tuple]:
    with duckdb.connect(str(env.db_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_jsonl_csv_and_parquet_land_and_bad_rows_keep_file_and_line(env: Env, tmp_path: Path) -> None:
    jsonl = tmp_path / "tickets.jsonl"
    jsonl.write_bytes(b"\n".join([encode(ticket("t1")), b"{broken", b"", encode(ticket("t2", handling_minutes=-5)),
                                  encode(ticket("t3", channel="pigeon")), encode(ticket("t4"))]) + b"\n")
    csv = tmp_path / "2026-11_payments.csv"
    csv.write_text(
        "event_id,customer_id,occurred_at,invoice_id,kind,status,amount,currency,due_at\n"
        "p1,c1,2026-11-01T09:00:00+01:00,i1,charge,succeeded,12.50,EUR,\n"
        "p2,c1,2026-11-01T09:00:00Z,i2,charge,failed,abc,EUR,2026-11-15T00:00:00Z\n"
        "p3,,2026-11-01T09:00:00Z,i3,refund,succeeded,5,USD,\n"
    )
    parquet = tmp_path / "web_visits.parquet"
    with duckdb.connect() as con:
        con.execute(
            "copy (select * from (values ('v1', 'c1', timestamptz '2026-11-01 09:00:00+00', 's1', 'web', 30.5, 3),"
            " ('v2', 'c2', timestamptz '2026-11-01 10:00:00+00', 's2', 'fax', 1.0, null)) "
            "t(event_id, customer_id, occurred_at, session_id, channel, duration_seconds, pages)) to ?",
            [str(parquet)],
        )
    result = env.cli("load", str(jsonl), str(csv), str(parquet), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"rows": 10, "landed": 4, "duplicates": 0, "dead_lettered": 6,
                                          "already_dead_lettered": 0, "quarantined": 0}
    assert read(env, "select event_id from tickets order by 1") == [("t1",), ("t4",)]
    assert read(env, "select event_id, amount::varchar, occurred_at::varchar from payments") == \
        [("p1", "12.5000", "2026-11-01 08:00:00")]
    assert read(env, "select event_id, pages from visits") == [("v1", 3)]
    dead = read(env, "select source_file, source_line, reason_code from dead_letter order by dead_letter_id")
    assert dead == [
        (str(jsonl), 2, "invalid_json"), (str(jsonl), 4, "out_of_range"), (str(jsonl), 5, "invalid_value"),
        (str(csv), 2, "wrong_type"), (str(csv), 3, "missing_field"), (str(parquet), 2, "invalid_value"),
    ]
    again = env.cli("load", str(jsonl), "--json")
    assert json.loads(again.stdout)["duplicates"] == 2
    assert read(env, "select count(*) from tickets") == [(2,)]


def test_type_comes_from_the_name_or_the_option(env: Env, tmp_path: Path) -> None:
    mystery = tmp_path / "export.jsonl"
    mystery.write_bytes(encode(customer("k1")) + b"\n")
    refused = env.cli("load", str(mystery))
    assert refused.returncode == 1
    assert "cannot tell the event type" in refused.stderr and "Traceback" not in refused.stderr
    assert env.cli("load", str(mystery), "--type", "customers").returncode == 0
    assert read(env, "select customer_id from customers") == [("c1",)]


def test_unreadable_input_is_one_clear_line(env: Env, tmp_path: Path) -> None:
    missing = env.cli("load", str(tmp_path / "visits.jsonl"))
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1 and "no such file" in missing.stderr
    folder = env.cli("load", str(tmp_path))
    assert folder.returncode == 1 and folder.stderr.count("\n") == 1
    assert f"{tmp_path}: is a directory; pass the files in it" in folder.stderr
    bad_parquet = tmp_path / "visits.parquet"
    bad_parquet.write_bytes(b"not parquet")
    result = env.cli("load", str(bad_parquet))
    assert result.returncode == 1 and "cannot read as PARQUET" in result.stderr
    assert "Traceback" not in result.stderr
    unreadable = tmp_path / "tickets.jsonl"  # a file whose every read fails (EIO), as a failing disk's
    unreadable.symlink_to("/proc/self/mem")
    result = env.cli("load", str(unreadable))
    assert result.returncode == 1 and f"{unreadable}: cannot read: Input/output error" in result.stderr
    assert "unexpected" not in result.stderr
    wrong = tmp_path / "visits.xlsx"
    wrong.write_bytes(encode(visit("v")))
    assert "unsupported file type" in env.cli("load", str(wrong)).stderr


def test_a_database_that_cannot_grow_fails_the_load_naming_the_write_error(env: Env, tmp_path: Path) -> None:
    small = tmp_path / "visits.jsonl"
    small.write_bytes(encode(visit("v0")) + b"\n")
    assert env.cli("load", str(small)).returncode == 0
    big = tmp_path / "tickets.jsonl"
    big.write_bytes(b"\n".join(encode(ticket(f"t{i}", note="x" * 400)) for i in range(20_000)) + b"\n")
    limit = sum(p.stat().st_size for p in tmp_path.glob("health.duckdb*")) + 64 * 1024

    def cap_file_size() -> None:  # a full disk without root: writes past `limit` bytes fail (EFBIG)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = subprocess.run(
        [sys.executable, "-m", "customer_health.cli", "load", str(big), "--config", str(env.config_path)],
        capture_output=True, text=True, timeout=120, cwd=REPO, preexec_fn=cap_file_size,
    )
    assert result.returncode == 1
    last_line = result.stderr.strip().splitlines()[-1]
    assert "File too large" in last_line and "cannot rollback" not in last_line, result.stderr


def test_a_file_larger_than_one_chunk_lands_completely_in_bounded_batches(env: Env, tmp_path: Path) -> None:
    config = env.config_path.read_text().replace("[quack]", "load_chunk_mb = 1\n[quack]")
    env.config_path.write_text(config)
    path = tmp_path / "tickets.jsonl"
    bad = {7: b"{broken", 4_001: b"[1]", 8_003: encode(ticket("bad", handling_minutes=-1)), 11_999: b"nope"}
    lines = []
    for number in range(1, 12_001):
        if number in bad:
            lines.append(bad[number])
        elif number % 1000 == 0:
            lines.append(b"   ")  # blank lines are skipped but still counted
        else:
            lines.append(encode(ticket(f"t{number}", note="x" * 250)))
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert path.stat().st_size > 3 * 1024 * 1024
    result = env.cli("load", str(path), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"rows": 11_988, "landed": 11_984, "duplicates": 0, "dead_lettered": 4,
                                          "already_dead_lettered": 0, "quarantined": 0}
    assert read(env, "select count(distinct event_id) from tickets") == [(11_984,)]
    dead = read(env, "select source_line, source_file from dead_letter order by source_line")
    assert dead == [(n, str(path)) for n in sorted(bad)]
    batches = read(env, "select count(*), max(messages) from ingest_batches")[0]
    line_bytes = len(lines[1]) + 1
    assert batches[0] >= 4 and batches[1] * line_bytes <= 1024 * 1024 + line_bytes, batches


VISITS_HEADER = "event_id,customer_id,occurred_at,session_id,channel,duration_seconds\n"


def visits_csv_rows(first: int, n: int) -> str:
    return "".join(f"v{i},c1,2026-11-01T09:00:00Z,s{i},web,30\n" for i in range(first, first + n))


def test_malformed_csv_rows_and_text_not_in_utf8_are_refused_naming_the_line_or_the_cause(
    env: Env, tmp_path: Path,
) -> None:
    # Early in the file, DuckDB's dialect detection finds no dialect and falls back to one column per line;
    # late, past the rows it samples, the read itself fails: both name the line and what is wrong there.
    early = tmp_path / "early_visits.csv"
    early.write_text(VISITS_HEADER + visits_csv_rows(0, 3) + "bad,c1,2026-11-01T09:00:00Z,s,web,30,EXTRA\n")
    late = tmp_path / "late_visits.csv"
    late.write_text(VISITS_HEADER + visits_csv_rows(0, 25_000) + "bad,c1,2026-11-01T09:00:00Z,s,web,30,EXTRA\n")
    for path, line in ((early, 5), (late, 25_002)):
        result = env.cli("load", str(path))
        assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
        assert f"{path}: cannot read as CSV" in result.stderr
        assert f"Line: {line}: Expected Number of Columns: 6 Found: 7" in result.stderr
    assert read(env, "select count(*) from visits") == [(0,)]
    for utf16 in (tmp_path / "utf16_visits.csv", tmp_path / "utf16_visits.jsonl"):
        utf16.write_text(VISITS_HEADER + visits_csv_rows(0, 2) if utf16.suffix == ".csv" else
                         json.dumps(visit("u1")) + "\r\n", encoding="utf-16")
        result = env.cli("load", str(utf16))
        assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
        assert f"{utf16}: is UTF-16 text" in result.stderr and "iconv -f UTF-16 -t UTF-8" in result.stderr
    assert read(env, "select count(*) from dead_letter") == [(0,)]
    latin1 = tmp_path / "visits.csv"
    latin1.write_bytes((VISITS_HEADER + "v1,c1,2026-11-01T09:00:00Z,s,w\xe9b,30\n").encode("latin-1"))
    assert "Line: 2: Invalid unicode (byte sequence mismatch) detected. This file is not utf-8 encoded." in \
        env.cli("load", str(latin1)).stderr


def test_a_csv_lands_every_row_under_the_header_on_its_first_non_blank_line(env: Env, tmp_path: Path) -> None:
    blank_first = tmp_path / "blank_first_visits.csv"  # the header is no row of its own
    blank_first.write_bytes(
        b"\xef\xbb\xbf\r\n\r\n" + (VISITS_HEADER + visits_csv_rows(100, 2)).replace("\n", "\r\n").encode())
    # A footer with more (empty) fields than the rows above it is not taken for the header, also when every
    # field above it is quoted (then no dialect fits the rows DuckDB samples).
    footer = tmp_path / "footer_visits.csv"
    footer.write_text(VISITS_HEADER + visits_csv_rows(0, 3) + "Total,,,,,,,\n")
    quoted_footer = tmp_path / "quoted_footer_visits.csv"
    quoted_footer.write_bytes(b'\xef\xbb\xbf"event_id","customer_id","occurred_at","session_id","channel",'
                              b'"duration_seconds"\r\n"q1","c1","2026-11-01T09:00:00Z","s","web","30"\r\n'
                              b"Total,,,,,,,\r\n")
    # Fields are quoted with '"' although none of the rows DuckDB samples to detect the dialect is quoted.
    quoted = tmp_path / "quoted_customers.csv"
    quoted.write_text("event_id,customer_id,occurred_at,name,kind,plan,signed_up_at\n" + "".join(
        f"k{i},c{i},2026-11-01T09:00:00Z,Name{i},b2c,basic,2025-01-01T00:00:00Z\n" for i in range(25_000))
        + 'late,c-late,2026-11-01T09:00:00Z,"Ortiz, Dana ""D""",b2b,pro,2025-01-01T00:00:00Z\n')
    result = env.cli("load", str(blank_first), str(footer), str(quoted_footer), str(quoted), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"rows": 25_009, "landed": 25_007, "duplicates": 0, "dead_lettered": 2,
                                          "already_dead_lettered": 0, "quarantined": 0}
    assert read(env, "select source_file, source_line, reason_code from dead_letter order by 1") == \
        [(str(footer), 4, "missing_field"), (str(quoted_footer), 2, "missing_field")]
    assert read(env, "select name from customers where customer_id = 'c-late'") == [('Ortiz, Dana "D"',)]


def test_a_json_document_is_refused_before_anything_lands_not_dead_lettered_line_by_line(
    env: Env, tmp_path: Path,
) -> None:
    good = tmp_path / "visits.jsonl"
    good.write_bytes(encode(visit("v0")) + b"\n")
    events = [visit(f"v{i}") for i in range(1, 4)]
    pretty = tmp_path / "export_visits.json"
    pretty.write_text(json.dumps(events, indent=2))
    one_line = tmp_path / "more_visits.json"
    one_line.write_bytes(b"\xef\xbb\xbf" + json.dumps(events).encode())
    an_object = tmp_path / "last_visits.json"
    an_object.write_text(json.dumps(events[0], indent=2))
    for document in (pretty, one_line, an_object):
        result = env.cli("load", str(good), str(document))
        assert result.returncode == 1 and result.stderr.count("\n") == 1, result.stderr
        assert f"{document}: is one JSON document" in result.stderr and "jq -c" in result.stderr
    assert read(env, "select count(*) from visits") == [(0,)]
    assert read(env, "select count(*) from dead_letter") == [(0,)]
    arrays = tmp_path / "odd_visits.jsonl"  # JSONL whose lines are arrays: each one a dead letter
    arrays.write_bytes(b'["an", "array"]\n[1]\n')
    assert json.loads(env.cli("load", str(arrays), "--json").stdout)["dead_lettered"] == 2


def test_ctrl_c_during_a_load_stops_it_with_the_interrupt_exit_code(env: Env, tmp_path: Path) -> None:
    path = tmp_path / "visits.csv"  # read in one DuckDB query that runs for seconds: Ctrl-C arrives inside it
    path.write_text(VISITS_HEADER + visits_csv_rows(0, 300_000))
    proc = subprocess.Popen(
        [sys.executable, "-m", "customer_health.cli", "load", str(path), "--config", str(env.config_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as from a terminal, not ignored
    )
    wait_until(lambda: env.db_path.exists() or proc.poll() is not None, timeout=60, message="the load started")
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "unexpected" not in err and "Traceback" not in err
