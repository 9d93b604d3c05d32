"""Backfill from JSONL, CSV or Parquet files through the same contract and landing path as Kafka."""

from __future__ import annotations

import contextlib
import csv
import queue
import re
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from customer_health import sqlfiles
from customer_health.config import EVENT_TYPES
from customer_health.errors import UserError
from ingest.landing import INCOMING_SCHEMA, BatchResult, Lander

# Contract fields whose CSV text is read as a JSON number or boolean (see load/tabular_rows.sql).
NUMBER_FIELDS = ["handling_minutes", "compensation_requested", "compensation_granted", "sentiment", "amount",
                 "duration_seconds", "pages"]
BOOLEAN_FIELDS = ["escalated"]
_T = TypeVar("_T")
FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet"}


@dataclass
class LoadTotals:
    rows: int = 0
    landed: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    # Bad rows an earlier load of the same file already dead-lettered (same line and raw bytes): not stored again.
    already_dead_lettered: int = 0
    quarantined: int = 0

    def add(self, result: BatchResult) -> None:
        self.rows += result.messages
        self.landed += result.landed
        self.duplicates += result.duplicates
        self.dead_lettered += result.dead_lettered
        self.already_dead_lettered += result.already_dead_lettered
        self.quarantined += result.quarantined


class LoadStopped(UserError):
    """A file stopped a load of several files (or one landed in part): what landed before it stays landed (and
    underived until the next load: composition.load_left_underived); the files after it were not read."""

    def __init__(self, cause: UserError | duckdb.Error, path: Path, of_file: LoadTotals,
                 read: list[tuple[Path, LoadTotals]], totals: LoadTotals, not_read: list[Path]) -> None:
        self.path = path
        self.of_file = of_file  # what the stopping file landed before it stopped (its batches landed so far)
        self.read = read
        self.totals = totals
        self.not_read = not_read
        self.cause = (str(cause) if isinstance(cause, UserError)
                      else f"{path}: database error: {str(cause).splitlines()[0]}")
        landed = f"{of_file.rows:,} of its rows landed" if of_file.rows else "nothing of it landed"
        rest = (f"; {len(not_read)} file{'s' if len(not_read) > 1 else ''} after it not read: "
                + ", ".join(map(str, not_read))) if not_read else ""
        super().__init__(f"{self.cause}; the load stopped at this file ({landed}){rest}")


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


# The UTF-8 byte order mark, which a JSONL file may start with.
_BOM = b"\xef\xbb\xbf"


def _refuse_unreadable_text(path: Path, fmt: str) -> None:
    """Refuse, before anything lands, a JSONL or CSV file that reads as garbage: UTF-16 text (as Windows tools
    write it; both are read as UTF-8), or one JSON document (an array of events, or an object over several
    lines, as JSON exports are) where JSONL has one object per line. Read as they are, every line of the first
    would be a dead letter or a reading error without the cause, every line of the second a dead letter."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror}") from None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UserError(f"{path}: is UTF-16 text (it starts with a UTF-16 byte order mark); {fmt.upper()} is read "
                        f"as UTF-8: convert it, e.g. iconv -f UTF-16 -t UTF-8 {path} > {path.stem}-utf8{path.suffix}")
    if fmt != "jsonl":
        return
    first_line = head.removeprefix(_BOM).lstrip().split(b"\n", 1)[0].strip()
    if first_line == b"{" or re.match(rb"\[\s*(\{|$)", first_line):
        raise UserError(f"{path}: is one JSON document (an array, or an object over several lines), not one JSON "
                        f"object per line (JSONL): convert it, e.g. jq -c '.[]' {path} > {path.stem}.jsonl "
                        "(an array) or jq -c . (objects)")


# A block of consecutive rows of a file: their line numbers and raw texts (an Arrow binary array).
Block = tuple[np.ndarray, pa.BinaryArray]


def _chunks(
    blocks: Iterable[Block], chunk_rows: int | None, chunk_bytes: int,
) -> Iterator[tuple[np.ndarray, pa.ChunkedArray]]:
    """Consecutive rows in chunks of at most ``chunk_rows`` rows (None: no bound) and, unless one row is larger,
    ``chunk_bytes`` bytes of raw text (an Arrow binary array holds at most 2 GiB): each chunk as full as the
    next row allows. Cut with cumulative sums over whole blocks, never row by row."""
    most = chunk_rows if chunk_rows is not None else sys.maxsize
    lines: list[np.ndarray] = []
    raws: list[pa.BinaryArray] = []
    rows = size = 0
    for numbers, values in blocks:
        n = len(values)
        total = np.concatenate([[0], np.cumsum(pc.binary_length(values).to_numpy(), dtype=np.int64)])
        start = 0
        while start < n:
            # The most rows from `start` on that fit in what the chunk has left.
            end = int(np.searchsorted(total, total[start] + (chunk_bytes - size), side="right")) - 1
            end = min(end, start + (most - rows), n)
            if end == start and rows == 0:
                end = start + 1  # a row larger than a chunk is a chunk of its own
            if end > start:
                lines.append(numbers[start:end])
                raws.append(values.slice(start, end - start))
                rows += end - start
                size += int(total[end] - total[start])
                start = end
            if start < n:  # the next row does not fit: the chunk is full
                yield np.concatenate(lines), pa.chunked_array(raws, pa.binary())
                lines, raws, rows, size = [], [], 0, 0
    if rows:
        yield np.concatenate(lines), pa.chunked_array(raws, pa.binary())


def _file_batch(event_type: str, source_file: str, lines: np.ndarray, raws: pa.ChunkedArray) -> pa.Table:
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
            raws,
            pa.nulls(n, pa.timestamp("ms")),
            pa.nulls(n, pa.string()),
        ],
        schema=INCOMING_SCHEMA,
    )


# Bytes that bytes.strip() removes: a line of only these is blank (skipped, but counted in line numbers).
_WHITESPACE = np.zeros(256, dtype=bool)
_WHITESPACE[list(b" \t\n\r\x0b\x0c")] = True
# Bytes of a JSONL file read at a time (a longer line is read whole).
_READ_BYTES = 16 * 1024 * 1024


def _jsonl_blocks(path: Path, read_bytes: int = _READ_BYTES) -> Iterator[Block]:
    """The non-blank lines of a JSONL file, numbered from 1, without their line ends (``\\n`` and any ``\\r``
    before it) and without a UTF-8 byte order mark at the start of the file (as Windows tools write), in blocks
    of about ``read_bytes``: found with array operations over each block's bytes, never line by line in Python."""
    first_line = 1
    with path.open("rb") as fh:
        carry = fh.read(len(_BOM))
        if carry == _BOM:
            carry = b""
        while True:
            data = fh.read(max(read_bytes, len(carry)))
            final = not data
            buf = np.frombuffer(carry + data if carry else data, dtype=np.uint8)
            ends = np.flatnonzero(buf == 10)  # each line's "\n"
            consumed = int(ends[-1]) + 1 if len(ends) else 0
            if final and consumed < len(buf):  # a last line without "\n"
                ends = np.append(ends, len(buf))
                consumed = len(buf)
            carry = buf[consumed:].tobytes()
            if len(ends):
                yield from _block_of_lines(buf, ends, first_line)
                first_line += len(ends)
            if final:
                return


def _block_of_lines(buf: np.ndarray, ends: np.ndarray, first_line: int) -> Iterator[Block]:
    starts = np.concatenate([[0], ends[:-1] + 1])
    stops = ends.copy()
    kept = np.ones(len(buf), dtype=bool)  # the bytes of the kept lines, without their line ends
    kept[ends[ends < len(buf)]] = False  # every "\n" (the last line may end with the file instead)
    while True:  # strip every trailing "\r" (a line still ending with one goes round again)
        cr = np.flatnonzero((stops > starts) & (buf[np.maximum(stops - 1, 0)] == 13))
        if not len(cr):
            break
        stops[cr] -= 1
        kept[stops[cr]] = False
    # Only an empty line or one starting with whitespace may be blank: those few are checked one by one.
    maybe = np.flatnonzero((stops == starts) | _WHITESPACE[buf[np.minimum(starts, len(buf) - 1)]])
    blank = [int(i) for i in maybe if not buf[starts[i]:stops[i]].tobytes().strip()]
    keep = np.ones(len(ends), dtype=bool)
    keep[blank] = False
    for i in blank:
        kept[starts[i]:stops[i]] = False
    numbers = np.arange(first_line, first_line + len(ends), dtype=np.int64)[keep]
    if not len(numbers):
        return
    data = buf[kept]
    offsets = np.concatenate([[0], np.cumsum((stops - starts)[keep], dtype=np.int64)])
    # Int32 offsets hold at most 2 GiB: split the block where they would not.
    limit = 2**31 - 1
    first = 0
    while first < len(numbers):
        last = int(np.searchsorted(offsets, offsets[first] + limit, side="right")) - 1
        last = max(last, first + 1)
        chunk_offsets = (offsets[first:last + 1] - offsets[first]).astype(np.int32)
        values = pa.Array.from_buffers(pa.binary(), last - first, [
            None, pa.py_buffer(chunk_offsets), pa.py_buffer(data[offsets[first]:offsets[last]]),
        ])
        yield numbers[first:last], values
        first = last


# Field delimiters of CSV exports, as DuckDB detects them.
_DELIMITERS = ",;\t|"


def _read_csv(cur: duckdb.DuckDBPyConnection, path: Path) -> duckdb.DuckDBPyRelation:
    """The CSV file as text columns named by its header, its first non-blank line: DuckDB may not take a later
    line for the header (skipping the rows before it) because the first lines have fewer fields than a footer.
    Fields are quoted with ``"`` (RFC 4180), also when the rows DuckDB samples to detect the dialect quote
    none. When no dialect fits the sample (a row with more or fewer fields than the header, an unclosed quote),
    DuckDB fails or falls back to reading each line as one field: then the file is read with the delimiter of
    its header, so that the error names the line at fault."""
    blank_lines, header = _header_line(path)
    try:
        source = cur.read_csv(str(path), all_varchar=True, header=True, skiprows=blank_lines, quotechar='"')
    except duckdb.InvalidInputException as exc:
        if "Error when sniffing file" not in str(exc):
            raise
    else:
        if len(source.columns) > 1 or not any(d in source.columns[0] for d in _DELIMITERS):
            return source
    delimiter = max(_DELIMITERS, key=header.count)
    names = next(csv.reader([header], delimiter=delimiter), [])
    return cur.read_csv(str(path), header=True, auto_detect=False, skiprows=blank_lines, delimiter=delimiter,
                        quotechar='"', escapechar='"', columns={name: "VARCHAR" for name in names})


def _header_line(path: Path) -> tuple[int, str]:
    """How many blank lines a CSV file starts with, and the line after them (its header; "" when none)."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
        for blank_lines, line in enumerate(fh):
            if line.strip():
                return blank_lines, line
    return 0, ""


def _reading_error(exc: duckdb.Error) -> str:
    """DuckDB's error in one line: its first and, for a CSV error, the line saying what is wrong there."""
    lines = str(exc).splitlines()
    advice = next((i for i, line in enumerate(lines) if line.startswith("Possible")), len(lines))
    cause = next((line for line in reversed(lines[1:advice]) if line.strip()), "")
    if "CSV Error on Line" in lines[0] and cause and not cause.startswith("Original Line"):
        return f"{lines[0]}: {cause}"
    return lines[0]


def _refuse_unusable_columns(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: str, event_type: str, assume_timezone: str | None,
) -> None:
    """Refuse, before anything lands, a CSV or Parquet file without a column for a field its event type requires
    (sql/30_contract: contract_required_<type>), or, without ``assume_timezone``, a Parquet file whose time field is
    a TIMESTAMP without time zone: read as it is, every one of its rows would be a dead letter."""
    with con.cursor() as cur:
        try:
            source = _read_csv(cur, path) if fmt == "csv" else cur.read_parquet(str(path))
        except duckdb.Error as exc:
            raise UserError(f"{path}: cannot read as {fmt.upper()}: {_reading_error(exc)}") from None
        columns = source.columns
        statements = sqlfiles.Statements(cur)
        missing = statements.value("load/missing_columns", {"event_type": event_type, "columns": columns})
        time_fields = set(statements.value("load/timestamp_fields"))
    naive = [name for name, kind in zip(columns, source.types, strict=True)
             if name in time_fields and str(kind) in _NAIVE_TIMESTAMP_TYPES]
    if naive and assume_timezone is None:
        raise UserError(
            f"{path}: {', '.join(naive)} {'is a TIMESTAMP' if len(naive) == 1 else 'are TIMESTAMPs'} without time "
            "zone, so the instants are unknown. Nothing was loaded: pass --assume-timezone ZONE (e.g. UTC, or the "
            "zone the exporting system writes local times in, e.g. Europe/Berlin) to read them in that zone")
    if missing:
        shown = ", ".join(columns[:30]) + (", ..." if len(columns) > 30 else "")
        raise UserError(
            f"{path}: a {event_type} file needs a column for every required field; missing: {', '.join(missing)} "
            f"(its columns: {shown}; names are case-sensitive). Nothing was loaded: rename the columns, or pass "
            "--type if the file holds another event type")


def _tabular_blocks(
    con: duckdb.DuckDBPyConnection, path: Path, fmt: str, assume_timezone: str | None,
) -> Generator[Block, None, None]:
    with con.cursor() as cur:
        try:
            source = _read_csv(cur, path) if fmt == "csv" else cur.read_parquet(str(path))
            source.create_view("load_source", replace=True)
            result = sqlfiles.Statements(cur).run("load/tabular_rows", {
                "number_fields": NUMBER_FIELDS, "boolean_fields": BOOLEAN_FIELDS, "assume_timezone": assume_timezone,
            })
            while rows := result.fetchmany(_FETCH_ROWS):
                yield (np.array([int(line) for line, _ in rows], dtype=np.int64),
                       pa.array([bytes(raw) for _, raw in rows], pa.binary()))
        except duckdb.Error as exc:
            raise UserError(f"{path}: cannot read as {fmt.upper()}: {_reading_error(exc)}") from None


# DuckDB's types of a Parquet TIMESTAMP without time zone (any unit).
_NAIVE_TIMESTAMP_TYPES = frozenset({"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"})
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
    assume_timezone: str | None = None,
) -> LoadTotals:
    """Land every row of every file, in batches of at most ``chunk_rows`` rows (None: as many as fit) and
    ``chunk_bytes`` bytes (a file's size is bounded by the disk, not by memory); a bad row is dead-lettered
    with its file and line. Fewer, larger batches cost less per row: each batch runs every statement once.
    ``assume_timezone``: the zone (IANA name) a CSV or Parquet file's times without an offset are in."""
    if (chunk_rows is not None and chunk_rows <= 0) or chunk_bytes <= 0:
        raise UserError(f"load: chunk_rows and chunk_bytes must be more than 0, got {chunk_rows}, {chunk_bytes}")
    if assume_timezone is not None:
        zone = sqlfiles.Statements(lander.con).value("load/known_timezone", {"zone": assume_timezone})
        if zone is None:
            raise UserError(f"--assume-timezone {assume_timezone!r}: not a time zone name (IANA names such as UTC, "
                            "Europe/Berlin or America/New_York)")
        assume_timezone = str(zone)
    plan = []
    for path in paths:
        if path.is_dir():
            raise UserError(f"{path}: is a directory; pass the files in it (e.g. {path / '*.jsonl'})")
        if not path.is_file():
            raise UserError(f"{path}: no such file")
        fmt = file_format(path)
        if fmt != "parquet":
            _refuse_unreadable_text(path, fmt)
        event_type = event_type_for(path, explicit_type)
        if fmt != "jsonl":
            _refuse_unusable_columns(lander.con, path, fmt, event_type, assume_timezone)
        plan.append((path, event_type, fmt))
    totals = LoadTotals()
    read: list[tuple[Path, LoadTotals]] = []  # the files read to their end, and what each landed
    started = time.monotonic()
    for index, (path, event_type, fmt) in enumerate(plan):
        of_file = LoadTotals()
        try:
            blocks = (_read_ahead(_jsonl_blocks(path)) if fmt == "jsonl"
                      else _tabular_blocks(lander.con, path, fmt, assume_timezone))
            with contextlib.closing(blocks):  # the reader stops with a failed batch too
                for lines, raws in _chunks(blocks, chunk_rows, chunk_bytes):
                    table = _file_batch(event_type, str(path), lines, raws)
                    result = lander.land(table, f"file:{path}")
                    totals.add(result)
                    of_file.add(result)
                    if progress:
                        progress(totals, time.monotonic() - started)
        except (UserError, duckdb.Error) as exc:
            not_read = [later for later, _type, _fmt in plan[index + 1:]]
            if totals.rows or not_read:
                raise LoadStopped(exc, path, of_file, read, totals, not_read) from exc
            raise
        read.append((path, of_file))
    return totals


_DONE = object()


def _read_ahead(items: Iterator[_T]) -> Generator[_T, None, None]:
    """``items``, each produced on a thread of its own while the one before it is consumed (a file's next
    block read while DuckDB lands this one: both mostly outside the GIL). An error of the producer is raised
    here, where it would have been without the thread; closing it stops the producer."""
    handoff: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: Any, error: BaseException | None = None) -> bool:
        while not stop.is_set():
            try:
                handoff.put((item, error), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the consumer, which raises it
            put(_DONE, exc)

    producer = threading.Thread(target=produce, name="load-read-ahead", daemon=True)
    producer.start()
    try:
        while True:
            item, error = handoff.get()
            if item is _DONE:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        producer.join()
