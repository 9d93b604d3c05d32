"""Land one batch of raw messages in DuckDB, in one transaction, through the event contract.

Parsing and validation run inside DuckDB (sql/statements/ingest). A batch either lands completely
(valid events, dead letters, consumer offsets and the batch record) or not at all. The batch statements
are prepared once per connection and the batch tables they read are created once and emptied per batch,
so a batch costs running them, not planning them again. A large batch (a file chunk, a lake replay) is
decoded and checked into the batch tables before its transaction instead (:data:`STAGE_MIN_ROWS`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

import duckdb
import numpy as np
import pyarrow as pa

from customer_health.clock import model_now, utc_now
from customer_health.config import EVENT_TYPES
from customer_health.sqlfiles import Statements, transaction

log = logging.getLogger(__name__)

INCOMING_SCHEMA = pa.schema(
    [
        ("ordinal", pa.int64()),
        ("event_type", pa.string()),
        ("topic", pa.string()),
        ("partition", pa.int32()),
        ("offset", pa.int64()),
        ("source_file", pa.string()),
        ("source_line", pa.int64()),
        ("message_key", pa.binary()),
        ("raw", pa.binary()),
        # Kafka record timestamp (producer clock), UTC; null for files.
        ("produced_at", pa.timestamp("ms")),
        ("topic_id", pa.string()),
    ]
)
_CHUNK_SCHEMA = INCOMING_SCHEMA.remove(0)  # ordinal is numbered over the whole batch
# Created once per connection (sql/statements/ingest/batch_tables) and emptied before each batch commits, or
# created again after a staged batch (STAGE_MIN_ROWS).
BATCH_TABLES = ("incoming", "decoded", "checked_tickets", "checked_payments", "checked_visits", "checked_customers")
# A batch of at least this many messages (two of DuckDB's row groups) is staged: its messages are decoded and
# checked into the batch tables in transactions of their own, before the batch's transaction lands them. DuckDB
# scans the rows a transaction inserted itself on one thread, committed rows on all of them. The batch tables
# hold only temporary rows, so nothing of the batch lands before its transaction; they are created again after
# it (a committed row deleted later would stay in memory), which has the batch statements planned again.
STAGE_MIN_ROWS = 2 * 122_880


class KafkaRecord(Protocol):
    """What landing reads of a kafka-python ConsumerRecord."""

    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: int  # ms since the epoch (producer or broker clock)


class RawBatch:
    """Raw messages, exactly as they arrived (bytes are never decoded in Python), as Arrow chunks.

    Records polled from one partition become one chunk with column-wise conversions (no per-record
    Python work beyond reading the record's fields), so the poll loop stays close to a bare consumer.
    """

    def __init__(self) -> None:
        self._chunks: list[pa.RecordBatch] = []
        self._single: list[tuple] = []  # messages added one by one, not yet a chunk
        self._rows = 0
        self._chunk_bytes = 0

    def __len__(self) -> int:
        return self._rows

    @property
    def nbytes(self) -> int:
        """Bytes the batch's Arrow buffers hold."""
        self._seal()
        return self._chunk_bytes

    def extend(self, other: RawBatch) -> None:
        self._seal()
        other._seal()
        self._chunks.extend(other._chunks)
        self._rows += other._rows
        self._chunk_bytes += other._chunk_bytes

    def add_records(
        self, event_type: str, topic: str, partition: int, records: Sequence[KafkaRecord], topic_id: str | None = None,
    ) -> None:
        """Records polled from one partition of ``topic``, in offset order."""
        n = len(records)
        if n == 0:
            return
        self._append(pa.record_batch(
            [
                pa.repeat(event_type, n),
                pa.repeat(topic, n),
                pa.repeat(pa.scalar(partition, pa.int32()), n),
                pa.array([r.offset for r in records], pa.int64()),
                pa.nulls(n, pa.string()),
                pa.nulls(n, pa.int64()),
                pa.array([r.key for r in records], pa.binary()),
                pa.array([b"" if r.value is None else r.value for r in records], pa.binary()),
                pa.array([r.timestamp for r in records], pa.timestamp("ms")),
                pa.repeat(pa.scalar(topic_id, pa.string()), n),
            ],
            schema=_CHUNK_SCHEMA,
        ))

    def add_kafka(
        self, event_type: str, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None,
        timestamp_ms: int | None, topic_id: str | None = None,
    ) -> None:
        """One message (tools and tests; the pipeline adds whole partitions with ``add_records``)."""
        self._single.append((event_type, topic, partition, offset, None, None, key,
                             value if value is not None else b"", timestamp_ms, topic_id))
        self._rows += 1

    def add_file_rows(self, rows: Sequence[tuple[str | None, str, int, bytes]]) -> None:
        """File lines: (event_type, source_file, source_line, raw bytes) per row."""
        n = len(rows)
        if n == 0:
            return
        self._append(pa.record_batch(
            [
                pa.array([r[0] for r in rows], pa.string()),
                pa.nulls(n, pa.string()),
                pa.nulls(n, pa.int32()),
                pa.nulls(n, pa.int64()),
                pa.array([r[1] for r in rows], pa.string()),
                pa.array([r[2] for r in rows], pa.int64()),
                pa.nulls(n, pa.binary()),
                pa.array([r[3] for r in rows], pa.binary()),
                pa.nulls(n, pa.timestamp("ms")),
                pa.nulls(n, pa.string()),
            ],
            schema=_CHUNK_SCHEMA,
        ))

    def _append(self, chunk: pa.RecordBatch) -> None:
        self._seal()
        self._chunks.append(chunk)
        self._rows += chunk.num_rows
        self._chunk_bytes += chunk.nbytes

    def _seal(self) -> None:
        """Turn the messages added one by one into a chunk (keeps arrival order)."""
        if self._single:
            columns = [list(column) for column in zip(*self._single, strict=True)]
            chunk = pa.record_batch(columns, schema=_CHUNK_SCHEMA)
            self._chunks.append(chunk)
            self._chunk_bytes += chunk.nbytes
            self._single = []

    def to_arrow(self) -> pa.Table:
        """The batch as the ``incoming`` relation: ``ordinal`` numbers messages 0..n-1 in arrival order."""
        self._seal()
        table = pa.Table.from_batches(self._chunks, schema=_CHUNK_SCHEMA)
        return table.add_column(0, "ordinal", pa.array(np.arange(self._rows, dtype=np.int64)))


@dataclass(frozen=True)
class BatchResult:
    batch_id: int
    messages: int
    landed: int
    duplicates: int
    dead_lettered: int
    quarantined: int
    committed_at: datetime
    # The batch was given up, nothing of it committed: its partitions moved to another pipeline, which lands
    # it from the lake's offsets (store = "ducklake", ingest.lake.Fenced). Its offsets are not committed either.
    fenced: bool = False
    # Bad rows of a file batch an earlier load already dead-lettered (same file, event type, line and raw bytes):
    # not stored again. messages = landed + duplicates + dead_lettered + already_dead_lettered + quarantined.
    already_dead_lettered: int = 0


@dataclass(frozen=True)
class BatchContext:
    """What a batch hook sees: the open transaction's batch id and time (naive UTC), and the lander's runner of
    prepared statements (hooks run their per-batch statements through it). ``now`` is the wall clock for
    ``before_land`` hooks and the model's now (``clock.model_now``, after this batch) for ``after_land`` hooks."""

    batch_id: int
    now: datetime
    source: str
    statements: Statements


BatchHook = Callable[[duckdb.DuckDBPyConnection, BatchContext], int | None]


@dataclass(frozen=True)
class IdleContext:
    """What an idle hook sees: the model's now (``clock.model_now``, naive UTC) and the lander's runner of
    prepared statements."""

    now: datetime
    statements: Statements


IdleHook = Callable[[duckdb.DuckDBPyConnection, IdleContext], object]


@dataclass
class Lander:
    """Lands batches on the owner connection. Hooks run inside the batch transaction.

    ``before_land`` hooks may move valid rows of the ``checked_*`` tables to quarantine and return how
    many; ``after_land`` hooks keep derived tables (rollups, health) in step with the landed events.

    ``when_idle`` hooks run, in a transaction of their own, when the pipeline had nothing to land for a while
    (:meth:`idle`): they finish what batches put off.

    ``bulk`` (a backfill): the ``after_land`` hooks do not run, so a partly landed backfill leaves no
    derived state (history, segment changes, alerts); the contract, dead letters, duplicates and the
    ``before_land`` hooks (quarantine) still run per batch. Whoever lands in bulk rebuilds the derived
    tables once it is done.
    """

    con: duckdb.DuckDBPyConnection
    group_id: str
    max_message_bytes: int
    before_land: list[BatchHook] = field(default_factory=list)
    after_land: list[BatchHook] = field(default_factory=list)
    when_idle: list[IdleHook] = field(default_factory=list)
    bulk: bool = False
    clock_source: str = "wall"  # [clock] source, recorded with the model clock of every batch
    # On a rebalance, drop what was polled and not landed instead of landing it first (the lake store:
    # the next owner reads it again from the offsets committed with the data).
    discard_on_revoke: bool = False
    # Where assigned partitions resume is found after the rebalance, on the poll thread (the partitions
    # wait paused): the lake's claim takes longer than a rebalance listener may block the consumer.
    claim_after_assignment: bool = False
    statements: Statements = field(init=False)
    _tables_created: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.statements = Statements(self.con)

    def land(self, batch: RawBatch | pa.Table, source: str) -> BatchResult:
        """Land every message of the batch exactly once: valid events, or dead letters with reasons."""
        table = batch.to_arrow() if isinstance(batch, RawBatch) else batch
        started_at = utc_now()
        con = self.con
        if not self._tables_created:
            self._recreate_batch_tables()
            self._tables_created = True
        self.statements.check_catalog()
        try:
            if table.num_rows >= STAGE_MIN_ROWS:
                try:
                    con.from_arrow(table).insert_into("temp.incoming")
                    self._decode_and_check()
                    with transaction(con):
                        result = self._land_in_transaction(table.num_rows, source, started_at)
                finally:
                    self._recreate_batch_tables(quiet=True)
            else:
                with transaction(con):
                    con.from_arrow(table).insert_into("temp.incoming")
                    self._decode_and_check()
                    result = self._land_in_transaction(table.num_rows, source, started_at)
                    # Emptied inside the batch's transaction, so their rows are never committed: rows committed to
                    # a temporary table and deleted by a later transaction would stay in memory and be scanned
                    # again.
                    for name in BATCH_TABLES:
                        con.execute(f"delete from temp.{name}")
        except BaseException as exc:
            log.error("batch from %s (%d messages) failed, nothing of it landed: %s: %s",
                      source, table.num_rows, type(exc).__name__, exc)
            raise
        return result

    def idle(self) -> None:
        """Run the ``when_idle`` hooks in one transaction, at the model's now (nothing when there are none or
        ``bulk``). The pipeline calls it on its landing thread when nothing arrived for a while."""
        if not self.when_idle or self.bulk:
            return
        self.statements.check_catalog()
        try:
            with transaction(self.con):
                ctx = IdleContext(now=model_now(self.statements, utc_now()), statements=self.statements)
                for hook in self.when_idle:
                    hook(self.con, ctx)
        except BaseException as exc:
            log.error("the idle hooks failed, their transaction rolled back: %s: %s", type(exc).__name__, exc)
            raise

    def _recreate_batch_tables(self, quiet: bool = False) -> None:
        """The batch tables dropped and created empty again. ``quiet`` (after a staged batch): an error here is
        logged, not raised (the batch landed, or failed with an error of its own, which is the one to raise);
        the next batch then creates them again first. An interrupt is raised all the same."""
        try:
            for name in BATCH_TABLES:
                self.con.execute(f"drop table if exists temp.{name}")
                self.statements.run(f"ingest/batch_tables/{name}")
        except BaseException as exc:
            self._tables_created = False
            if not quiet or not isinstance(exc, Exception):
                raise
            log.error("the batch tables could not be created again after a staged batch (the next batch creates "
                      "them first): %s: %s", type(exc).__name__, exc)

    def _decode_and_check(self) -> None:
        """The messages of ``incoming`` parsed (``decoded``) and typed and checked (``checked_<type>``)."""
        self.statements.run("ingest/decode_incoming", {"max_message_bytes": self.max_message_bytes})
        for event_type in EVENT_TYPES:
            self.statements.run(f"ingest/check_{event_type}")

    def _land_in_transaction(self, messages: int, source: str, started_at: datetime) -> BatchResult:
        """The checked batch tables landed (quarantine, events, dead letters, offsets, the batch record) and the
        ``after_land`` hooks run, in the caller's transaction."""
        con = self.con
        run = self.statements.run
        batch_id = int(self.statements.row("ingest/next_batch_id")[0])
        now = utc_now()
        ctx = BatchContext(batch_id=batch_id, now=now, source=source, statements=self.statements)
        quarantined = sum(hook(con, ctx) or 0 for hook in self.before_land)
        valid = int(self.statements.row("ingest/count_valid")[0])
        landed = 0
        for event_type in EVENT_TYPES:
            landed += int(self.statements.row(f"ingest/land_{event_type}", {"batch_id": batch_id})[0])
        run("ingest/upsert_customer_profiles")
        # A file batch (source "file:<path>") skips the bad rows an earlier load of the file stored; a Kafka batch's
        # statement never reads dead_letter.
        dead_letter = "ingest/dead_letter_file_batch" if source.startswith("file:") else "ingest/dead_letter_batch"
        dead = int(self.statements.row(dead_letter, {"now": now, "batch_id": batch_id})[0])
        already_dead = messages - valid - quarantined - dead if source.startswith("file:") else 0
        run("ingest/record_offsets", {"group_id": self.group_id, "now": now})
        duplicates = valid - landed
        run(
            "ingest/record_batch",
            {
                "batch_id": batch_id, "source": source, "started_at": started_at, "now": now,
                "messages": messages, "landed": landed, "duplicates": duplicates, "dead_lettered": dead,
                "quarantined": quarantined,
            },
        )
        run("ingest/advance_model_clock", {"source": self.clock_source, "now": now})
        ctx = replace(ctx, now=model_now(self.statements, now))
        if not self.bulk:
            for hook in self.after_land:
                hook(con, ctx)
        if dead:
            log.warning("batch %d from %s: %d of %d messages dead-lettered", batch_id, source, dead, messages)
        return BatchResult(batch_id, messages, landed, duplicates, dead, quarantined, now,
                           already_dead_lettered=already_dead)

    def stored_offsets_from_cursor(self) -> dict[tuple[str, int], int]:
        """Landed offsets per (topic, partition), read on a cursor of its own (safe beside a landing)."""
        return {key: offset for key, (offset, _topic_id) in self.stored_positions().items()}

    def claim_positions(self, partitions: Iterable[tuple[str, int]]) -> dict[tuple[str, int], tuple[int, str | None]]:
        """Where to resume the newly assigned ``partitions`` (the file store: its stored offsets)."""
        return self.stored_positions()

    def release_partitions(self) -> None:
        """A rebalance revoked this pipeline's partitions (the file store keeps nothing about them)."""

    def stored_positions(self) -> dict[tuple[str, int], tuple[int, str | None]]:
        """(next offset, topic id) per (topic, partition) for this consumer group."""
        with self.con.cursor() as cur:
            rows = Statements(cur).run("ingest/stored_offsets", {"group_id": self.group_id}).fetchall()
        return {(topic, int(partition)): (int(offset), topic_id) for topic, partition, offset, topic_id in rows}

    def record_lag(self, rows: list[tuple[str, int, int, int, int]], observed_at: datetime) -> None:
        """Store the latest lag per partition: (topic, partition, end_offset, next_offset, lag)."""
        with self.con.cursor() as cur:
            for topic, partition, end, done, lag in rows:
                Statements(cur).run("ingest/record_lag", {
                    "topic": topic, "partition": partition, "end_offset": end, "next_offset": done,
                    "lag": lag, "now": observed_at,
                })


def batch_from_rows(rows: Sequence[tuple[str | None, str, int, bytes]]) -> pa.Table:
    """A file batch: (event_type, source_file, source_line, raw bytes) per row."""
    batch = RawBatch()
    batch.add_file_rows(rows)
    return batch.to_arrow()
