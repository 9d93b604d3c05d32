"""Backfill from JSONL, CSV or Parquet files through the same contract and landing path as Kafka."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from customer_health import sqlfiles
from customer_health.config import EVENT_TYPES
from customer_health.errors import UserError
from ingest.landing import INCOMING_SCHEMA, BatchResult, Lander

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
    quarantined: int = 0

    def add(self, result: BatchResult) -> None:
        self.rows += result.messages
        self.landed += result.landed
        self.duplicates += result.duplicates
        self.dead_lettered += result.dead_lettered
        self.quarantined += result.quarantined


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


def _chunks(
    rows: Iterable[tuple[int, bytes]], chunk_rows: int | None, chunk_bytes: int,
) -> Iterator[tuple[list[int], list[bytes]]]:
    """Consecutive rows as (line numbers, raw texts) in chunks of at most ``chunk_rows`` rows (None: no bound)
    and, unless one row is larger, ``chunk_bytes`` bytes of raw text (an Arrow binary array holds at most
    2 GiB). Two flat lists rather than a list of pairs: ints and bytes are no work for the garbage collector."""
    lines: list[int] = []
    raws: list[bytes] = []
    size = 0
    most = chunk_rows if chunk_rows is not None else sys.maxsize
    for line, raw in rows:
        if lines and (len(lines) >= most or size + len(raw) > chunk_bytes):
            yield lines, raws
            lines, raws, size = [], [], 0
        lines.append(line)
        raws.append(raw)
        size += len(raw)
    if lines:
        yield lines, raws


def _file_batch(event_type: str, source_file: str, lines: list[int], raws: list[bytes]) -> pa.Table:
    """The ``incoming`` relation of one chunk of a file (as :func:`ingest.landing.batch_from_rows`, column-wise)."""
    n = len(lines)
    return pa.Table.from_arrays(
        [
            pa.array(np.arange(n, dtype=np.int64)),
            pa.repeat(pa.scalar(event_type, pa.string()), n),
            pa.nulls(n, pa.string()),
            pa.nulls(n, pa.int32()),
            pa.nulls(n, pa.int64()),
            pa.repeat(pa.scalar(source_file, pa.string()), n),
            pa.array(lines, pa.int64()),
            pa.nulls(n, pa.binary()),
            pa.array(raws, pa.binary()),
            pa.nulls(n, pa.timestamp("ms")),
            pa.nulls(n, pa.string()),
        ],
        schema=INCOMING_SCHEMA,
    )


def _jsonl_rows(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            line = line.rstrip(b"\r\n")
            if line.strip():
                yield number, line


def _tabular_rows(con: duckdb.DuckDBPyConnection, path: Path, fmt: str) -> Iterator[tuple[int, bytes]]:
    with con.cursor() as cur:
        try:
            source = (cur.read_csv(str(path), all_varchar=True, header=True) if fmt == "csv"
                      else cur.read_parquet(str(path)))
            source.create_view("load_source", replace=True)
            result = sqlfiles.Statements(cur).run("load/tabular_rows", {
                "number_fields": NUMBER_FIELDS, "boolean_fields": BOOLEAN_FIELDS,
            })
            while rows := result.fetchmany(_FETCH_ROWS):
                for line, raw in rows:
                    yield int(line), bytes(raw)
        except duckdb.Error as exc:
            raise UserError(f"{path}: cannot read as {fmt.upper()}: {str(exc).splitlines()[0]}") from None


# Rows fetched from DuckDB at a time while reading CSV or Parquet.
_FETCH_ROWS = 2048
# Default bound of a landed chunk's raw text (bytes); settings: pipeline.load_chunk_mb.
DEFAULT_CHUNK_BYTES = 64 * 1024 * 1024


def load_files(
    lander: Lander,
    paths: list[Path],
    explicit_type: str | None = None,
    chunk_rows: int | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    progress: Callable[[LoadTotals, float], None] | None = None,
) -> LoadTotals:
    """Land every row of every file, in batches of at most ``chunk_rows`` rows (None: as many as fit) and
    ``chunk_bytes`` bytes (a file's size is bounded by the disk, not by memory); a bad row is dead-lettered
    with its file and line. Fewer, larger batches cost less per row: each batch runs every statement once."""
    if (chunk_rows is not None and chunk_rows <= 0) or chunk_bytes <= 0:
        raise UserError(f"load: chunk_rows and chunk_bytes must be more than 0, got {chunk_rows}, {chunk_bytes}")
    plan = []
    for path in paths:
        if not path.is_file():
            raise UserError(f"{path}: no such file")
        plan.append((path, event_type_for(path, explicit_type), file_format(path)))
    totals = LoadTotals()
    started = time.monotonic()
    for path, event_type, fmt in plan:
        rows = _jsonl_rows(path) if fmt == "jsonl" else _tabular_rows(lander.con, path, fmt)
        for lines, raws in _chunks(rows, chunk_rows, chunk_bytes):
            table = _file_batch(event_type, str(path), lines, raws)
            totals.add(lander.land(table, f"file:{path}"))
            if progress:
                progress(totals, time.monotonic() - started)
    return totals
