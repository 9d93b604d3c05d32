"""`load` of a mixed file set accounts for every row exactly as landing each file's lines in one batch does:
good rows, duplicates within a file, across chunks and across files, malformed lines, contract violations and
quarantined rows, in files with blank lines, CRLF line ends and no final newline, split into many chunks, each
chunk landed in its transaction or staged before it (ingest.landing.STAGE_MIN_ROWS), or some of each."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from customer_health.composition import load_lander
from customer_health.config import Settings
from customer_health.db import open_owner
from ingest import landing
from ingest.files import LoadTotals, load_files
from ingest.landing import BATCH_TABLES, BatchContext, batch_from_rows
from tests.factories import BAD_MESSAGES, encode, ticket, ts, visit
from tests.unit.test_load_reader import python_lines

# What each table's comparison reads: everything but ids and times assigned at landing.
TABLES = {
    "visits": "select * exclude (batch_id) from visits order by event_id",
    "tickets": "select * exclude (batch_id) from tickets order by event_id",
    "dead_letter": "select event_type, source_file, source_line, raw, reason_code, reason from dead_letter "
                   "order by source_file, source_line",
    # (how far ahead of the batch's wall clock an event is differs between two loads)
    "quarantine": "select event_type, event_id, source_file, source_line, raw, expectations, "
                  "regexp_replace(reason, 'minutes_ahead_of_now=[0-9.]+', 'minutes_ahead_of_now=..') "
                  "from quarantine order by source_file, source_line",
}



def mixed_files(directory: Path) -> tuple[list[Path], dict[str, int]]:
    """Files of visits and tickets and the counts their lines must give (derived while writing them)."""
    rng = random.Random(17)
    bad = [raw for event_type, raw, code in BAD_MESSAGES if event_type in ("visits", "tickets") and code != "oversized"]
    seen: dict[str, set[str]] = {"visits": set(), "tickets": set()}  # event ids landed, per table
    expected = {"rows": 0, "landed": 0, "duplicates": 0, "dead_lettered": 0, "already_dead_lettered": 0,
                "quarantined": 0}
    files = []
    for name, factory in (("visits.jsonl", visit), ("tickets.jsonl", ticket), ("2026-12_visits.jsonl", visit)):
        lines: list[bytes] = []
        landed = seen["tickets" if factory is ticket else "visits"]
        for i in range(1500):
            roll = rng.random()
            if roll < 0.04:
                lines.append(rng.choice([b"", b"   ", b"\t"]))  # blank: skipped, still numbered
                continue
            expected["rows"] += 1
            if roll < 0.10:
                lines.append(rng.choice(bad))
                expected["dead_lettered"] += 1
            elif roll < 0.13:  # valid, but far in the future: quarantined by the batch suite
                lines.append(encode(factory(f"{name}-q{i}", occurred_at="2099-01-01T00:00:00Z")))
                expected["quarantined"] += 1
            else:
                # a third of the ids repeat an earlier one (in this file or, for visits, the other visits file)
                event_id = rng.choice(sorted(landed)) if landed and roll < 0.35 else f"{name}-{i}"
                body = factory(event_id, f"c{rng.randrange(40)}", occurred_at=ts(rng.randrange(-9000, 0)))
                lines.append(encode(body))
                if event_id in landed:
                    expected["duplicates"] += 1
                else:
                    landed.add(event_id)
                    expected["landed"] += 1
        ends = [rng.choice([b"\n", b"\r\n"]) for _ in lines]
        path = directory / name
        path.write_bytes(b"".join(line + end for line, end in zip(lines, ends, strict=True)).rstrip(b"\r\n"))
        files.append(path)
    return files, expected


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {table: con.execute(sql).fetchall() for table, sql in TABLES.items()}


# (chunk bytes, the smallest batch staged: None as in production, where no batch of these files is staged)
LOADS = [(20_000, None), (64 * 1024 * 1024, None), (20_000, 1), (64 * 1024 * 1024, 1), (20_000, 100)]


@pytest.mark.parametrize(("chunk_bytes", "stage_min_rows"), LOADS)
def test_a_mixed_load_equals_landing_each_files_lines_in_one_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_bytes: int, stage_min_rows: int | None,
) -> None:
    files, expected = mixed_files(tmp_path)
    loaded_con = open_owner(Settings(db_path=tmp_path / "loaded.duckdb"))
    reference_con = open_owner(Settings(db_path=tmp_path / "reference.duckdb"))
    try:
        reference = load_lander(reference_con, Settings(db_path=tmp_path / "reference.duckdb"))
        loader = load_lander(loaded_con, Settings(db_path=tmp_path / "loaded.duckdb"))
        if stage_min_rows is not None:
            monkeypatch.setattr(landing, "STAGE_MIN_ROWS", stage_min_rows)
        totals = load_files(loader, files, chunk_bytes=chunk_bytes)
        monkeypatch.undo()
        by_hand = LoadTotals()
        for path in files:
            event_type = "tickets" if "tickets" in path.name else "visits"
            rows = [(event_type, str(path), number, raw) for number, raw in python_lines(path)]
            by_hand.add(reference.land(batch_from_rows(rows), f"file:{path}"))
        assert vars(totals) == vars(by_hand) == expected
        loaded, wanted = snapshot(loaded_con), snapshot(reference_con)
        for table in TABLES:
            assert loaded[table] == wanted[table], table
        assert len(loaded["visits"]) + len(loaded["tickets"]) == expected["landed"]
        assert len(loaded["dead_letter"]) == expected["dead_lettered"]
        assert len(loaded["quarantine"]) == expected["quarantined"]
        batches = loaded_con.execute("select count(*), sum(messages), sum(duplicates) from ingest_batches").fetchone()
        assert batches is not None and batches[1:] == (expected["rows"], expected["duplicates"])
        assert batches[0] > (len(files) if chunk_bytes < 100_000 else 0)
        if stage_min_rows == 100:  # some chunks staged, some landed in their transaction
            sizes = [n for (n,) in loaded_con.execute("select messages from ingest_batches").fetchall()]
            assert min(sizes) < 100 <= max(sizes)
        for name in BATCH_TABLES:  # emptied for the next batch, whichever way
            assert loaded_con.execute(f"select count(*) from temp.{name}").fetchone() == (0,)
        if stage_min_rows is not None:
            monkeypatch.setattr(landing, "STAGE_MIN_ROWS", stage_min_rows)
        again = load_files(loader, files, chunk_bytes=chunk_bytes)  # the same files again: their bad rows are known
        monkeypatch.undo()
        assert vars(again) == {**expected, "landed": 0, "duplicates": expected["landed"] + expected["duplicates"],
                               "dead_lettered": 0, "already_dead_lettered": expected["dead_lettered"]}
        assert snapshot(loaded_con)["dead_letter"] == loaded["dead_letter"]
    finally:
        loaded_con.close()
        reference_con.close()


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[tuple[list[Path], duckdb.DuckDBPyConnection, landing.Lander]]:
    """The mixed files, and the lander of a database with nothing landed yet."""
    files, _expected = mixed_files(tmp_path)
    settings = Settings(db_path=tmp_path / "loaded.duckdb")
    con = open_owner(settings)
    try:
        yield files, con, load_lander(con, settings)
    finally:
        con.close()


@pytest.mark.parametrize("failing", ["staging", "transaction"])
def test_a_staged_batch_that_fails_lands_nothing_and_the_next_one_lands_whole(
    fresh: tuple[list[Path], duckdb.DuckDBPyConnection, landing.Lander], monkeypatch: pytest.MonkeyPatch,
    failing: str,
) -> None:
    files, con, lander = fresh
    failures = iter([True])

    def fails_once(_con: duckdb.DuckDBPyConnection, _ctx: BatchContext) -> int:
        if next(failures, False):
            raise RuntimeError("a batch hook failed")
        return 0

    if failing == "transaction":  # in the batch's transaction, after the staging
        lander.before_land.insert(0, fails_once)
    else:  # while staging, the decoded messages in the batch tables, before any transaction
        decode_and_check = lander._decode_and_check

        def staged_then_fails() -> None:
            decode_and_check()
            fails_once(con, None)  # type: ignore[arg-type]

        monkeypatch.setattr(lander, "_decode_and_check", staged_then_fails)
    monkeypatch.setattr(landing, "STAGE_MIN_ROWS", 1)
    rows = [("visits", str(files[0]), number, raw) for number, raw in python_lines(files[0])]
    with pytest.raises(RuntimeError, match="a batch hook failed"):
        lander.land(batch_from_rows(rows), f"file:{files[0]}")
    landed = "select (select count(*) from visits), (select count(*) from dead_letter), " \
             "(select count(*) from quarantine), (select count(*) from ingest_batches)"
    assert con.execute(landed).fetchone() == (0, 0, 0, 0)
    for name in BATCH_TABLES:
        assert con.execute(f"select count(*) from temp.{name}").fetchone() == (0,)
    result = lander.land(batch_from_rows(rows), f"file:{files[0]}")
    assert result.messages == len(rows) > 0
    assert result.landed + result.duplicates + result.dead_lettered + result.quarantined == len(rows)
    assert con.execute(landed).fetchone() == (result.landed, result.dead_lettered, result.quarantined, 1)


def test_batch_tables_that_cannot_be_created_again_after_a_staged_batch_fail_no_batch(
    fresh: tuple[list[Path], duckdb.DuckDBPyConnection, landing.Lander], monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    files, con, lander = fresh
    run = lander.statements.run
    failing = {"ingest/batch_tables/decoded"}

    def fails_once(name: str, params: object = None) -> object:
        if name in failing:
            failing.clear()
            raise RuntimeError("out of memory, say")
        return run(name, params)  # type: ignore[arg-type]

    lander.land(batch_from_rows([("visits", "f0", 1, b'{"not": "a visit"}')]), "file:f0")  # tables made
    monkeypatch.setattr(lander.statements, "run", fails_once)
    monkeypatch.setattr(landing, "STAGE_MIN_ROWS", 1)
    first, second = ([("visits", str(path), n, raw) for n, raw in python_lines(path)]
                     for path in (files[0], files[2]))  # the two visits files
    landed = lander.land(batch_from_rows(first), f"file:{files[0]}")  # lands; its cleanup fails, is logged
    assert "could not be created again" in caplog.text
    assert landed.messages == len(first) and landed.landed > 0
    assert not failing
    after = lander.land(batch_from_rows(second), f"file:{files[2]}")  # creates them first
    assert after.landed > 0
    count = "select count(*) from (select event_id from visits union all select event_id from tickets)"
    assert con.execute(count).fetchone() == (landed.landed + after.landed,)
    for name in BATCH_TABLES:
        assert con.execute(f"select count(*) from temp.{name}").fetchone() == (0,)
