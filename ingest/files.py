"""Backfill from JSONL, CSV or Parquet files through the same contract and landing path as Kafka."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from customer_health import sqlfiles
from customer_health.config import EVENT_TYPES
from customer_health.errors import UserError
from ingest.landing import BatchResult, Lander, batch_from_rows

# Contract fields whose CSV text is read as a JSON number or boolean (see load/tabular_rows.sql).
NUMBER_FIELDS = ["handling_minutes", "compensation_requested", "compensation_granted", "sentiment", "amount",
                 "duration_seconds", "pages"]
BOOLEAN_FIELDS = ["escalated"]
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet"}


@dataclass
class LoadTotals:
    rows: int = 0
    landed: int = 0
    duplicates: int = 0
    dead_lettered: int = 0

    def add(self, result: BatchResult) -> None:
        self.rows += result.messages
        self.landed += result.landed
        self.duplicates += result.duplicates
        self.dead_lettered += result.dead_lettered


def event_type_for(path: Path, explicit: str | None) -> str:
    """The event type named by --type, else by the file name (``tickets.jsonl``, ``2026-01_payments.csv``)."""
    if explicit:
        if explicit not in EVENT_TYPES:
            raise UserError(f"--type must be one of {', '.join(EVENT_TYPES)}, got {explicit!r}")
        return explicit
    stem = path.name.split(".")[0].lower()
    found = [t for t in EVENT_TYPES if t in stem or t.rstrip("s") == stem]
    if len(found) != 1:
        raise UserError(
            f"{path}: cannot tell the event type from the file name; name it after one of "
            f"{', '.join(EVENT_TYPES)} or pass --type"
        )
    return found[0]


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UserError(f"{path}: unsupported file type {path.suffix!r} (use .jsonl, .csv or .parquet)")
    return fmt


def _jsonl_chunks(path: Path, chunk_rows: int) -> Iterator[list[tuple[int, bytes]]]:
    chunk: list[tuple[int, bytes]] = []
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            line = line.rstrip(b"\r\n")
            if not line.strip():
                continue
            chunk.append((number, line))
            if len(chunk) >= chunk_rows:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def _tabular_chunks(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: str, chunk_rows: int
) -> Iterator[list[tuple[int, bytes]]]:
    with con.cursor() as cur:
        try:
            source = (cur.read_csv(str(path), all_varchar=True, header=True) if fmt == "csv"
                      else cur.read_parquet(str(path)))
            source.create_view("load_source", replace=True)
            result = sqlfiles.Statements(cur).run("load/tabular_rows", {
                "number_fields": NUMBER_FIELDS, "boolean_fields": BOOLEAN_FIELDS,
            })
            while True:
                rows = result.fetchmany(chunk_rows)
                if not rows:
                    return
                yield [(int(line), bytes(raw)) for line, raw in rows]
        except duckdb.Error as exc:
            raise UserError(f"{path}: cannot read as {fmt.upper()}: {str(exc).splitlines()[0]}") from None


def load_files(
    lander: Lander,
    paths: list[Path],
    explicit_type: str | None = None,
    chunk_rows: int = 50_000,
    progress: Callable[[LoadTotals, float], None] | None = None,
) -> LoadTotals:
    """Land every row of every file; a bad row is dead-lettered with its file and line."""
    plan = []
    for path in paths:
        if not path.is_file():
            raise UserError(f"{path}: no such file")
        plan.append((path, event_type_for(path, explicit_type), file_format(path)))
    totals = LoadTotals()
    started = time.monotonic()
    for path, event_type, fmt in plan:
        chunks = (_jsonl_chunks(path, chunk_rows) if fmt == "jsonl"
                  else _tabular_chunks(lander.con, path, fmt, chunk_rows))
        for chunk in chunks:
            table: pa.Table = batch_from_rows([(event_type, str(path), line, raw) for line, raw in chunk])
            totals.add(lander.land(table, f"file:{path}"))
            if progress:
                progress(totals, time.monotonic() - started)
    return totals


def terminal_progress(totals: LoadTotals, elapsed: float) -> None:
    """One refreshed line on a terminal: rows, rate, dead-lettered."""
    if not sys.stderr.isatty():
        return
    rate = totals.rows / elapsed if elapsed > 0 else 0.0
    sys.stderr.write(
        f"\r{totals.rows:,} rows  {rate:,.0f} rows/s  landed {totals.landed:,}  "
        f"duplicates {totals.duplicates:,}  dead-lettered {totals.dead_lettered:,}   "
    )
    sys.stderr.flush()
