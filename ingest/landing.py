"""Land one batch of raw messages in DuckDB, in one transaction, through the event contract.

Parsing and validation run inside DuckDB (sql/statements/ingest). A batch either lands completely
(valid events, dead letters, consumer offsets and the batch record) or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from customer_health import sqlfiles
from customer_health.config import EVENT_TYPES

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


@dataclass
class RawBatch:
    """Raw messages, column-wise, exactly as they arrived (bytes are never decoded in Python)."""

    event_type: list[str | None] = field(default_factory=list)
    topic: list[str | None] = field(default_factory=list)
    partition: list[int | None] = field(default_factory=list)
    offset: list[int | None] = field(default_factory=list)
    source_file: list[str | None] = field(default_factory=list)
    source_line: list[int | None] = field(default_factory=list)
    message_key: list[bytes | None] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    produced_at_ms: list[int | None] = field(default_factory=list)
    topic_id: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.raw)

    def extend(self, other: RawBatch) -> None:
        for name in self.__dataclass_fields__:
            getattr(self, name).extend(getattr(other, name))

    def add_kafka(
        self, event_type: str, topic: str, partition: int, offset: int, key: bytes | None, value: bytes,
        timestamp_ms: int | None, topic_id: str | None = None,
    ) -> None:
        self.event_type.append(event_type)
        self.topic.append(topic)
        self.partition.append(partition)
        self.offset.append(offset)
        self.source_file.append(None)
        self.source_line.append(None)
        self.message_key.append(key)
        self.raw.append(value if value is not None else b"")
        self.produced_at_ms.append(timestamp_ms)
        self.topic_id.append(topic_id)

    def to_arrow(self) -> pa.Table:
        n = len(self.raw)
        return pa.Table.from_arrays(
            [
                pa.array(range(n), pa.int64()),
                pa.array(self.event_type, pa.string()),
                pa.array(self.topic, pa.string()),
                pa.array(self.partition, pa.int32()),
                pa.array(self.offset, pa.int64()),
                pa.array(self.source_file, pa.string()),
                pa.array(self.source_line, pa.int64()),
                pa.array(self.message_key, pa.binary()),
                pa.array(self.raw, pa.binary()),
                pa.array(self.produced_at_ms, pa.timestamp("ms")),
                pa.array(self.topic_id, pa.string()),
            ],
            schema=INCOMING_SCHEMA,
        )


@dataclass(frozen=True)
class BatchResult:
    batch_id: int
    messages: int
    landed: int
    duplicates: int
    dead_lettered: int
    quarantined: int
    committed_at: datetime


@dataclass(frozen=True)
class BatchContext:
    """What a batch hook sees: the open transaction's batch id and time (UTC)."""

    batch_id: int
    now: datetime
    source: str


BatchHook = Callable[[duckdb.DuckDBPyConnection, BatchContext], int | None]


@dataclass
class Lander:
    """Lands batches on the owner connection. Hooks run inside the batch transaction.

    ``before_land`` hooks may move valid rows of the ``checked_*`` tables to quarantine and return how
    many; ``after_land`` hooks keep derived tables (rollups, health) in step with the landed events.
    """

    con: duckdb.DuckDBPyConnection
    group_id: str
    max_message_bytes: int
    before_land: list[BatchHook] = field(default_factory=list)
    after_land: list[BatchHook] = field(default_factory=list)

    def land(self, batch: RawBatch | pa.Table, source: str) -> BatchResult:
        """Land every message of the batch exactly once: valid events, or dead letters with reasons."""
        table = batch.to_arrow() if isinstance(batch, RawBatch) else batch
        started_at = _utc_now()
        con = self.con
        con.register("incoming", table)
        try:
            con.execute("begin")
            try:
                result = self._land_in_transaction(table.num_rows, source, started_at)
                con.execute("commit")
            except BaseException:
                con.execute("rollback")
                raise
        finally:
            con.unregister("incoming")
        return result

    def _land_in_transaction(self, messages: int, source: str, started_at: datetime) -> BatchResult:
        con = self.con
        batch_id = int(sqlfiles.run(con, "ingest/next_batch_id").fetchone()[0])
        now = _utc_now()
        ctx = BatchContext(batch_id=batch_id, now=now, source=source)
        sqlfiles.run(con, "ingest/decode_incoming", {"max_message_bytes": self.max_message_bytes})
        for event_type in EVENT_TYPES:
            sqlfiles.run(con, f"ingest/check_{event_type}")
        quarantined = sum(hook(con, ctx) or 0 for hook in self.before_land)
        valid = int(sqlfiles.run(con, "ingest/count_valid").fetchone()[0])
        landed = 0
        for event_type in EVENT_TYPES:
            landed += int(sqlfiles.run(con, f"ingest/land_{event_type}", {"batch_id": batch_id}).fetchone()[0])
        sqlfiles.run(con, "ingest/upsert_customer_profiles")
        dead = int(
            sqlfiles.run(con, "ingest/dead_letter_batch", {"now": now, "batch_id": batch_id}).fetchone()[0]
        )
        sqlfiles.run(con, "ingest/record_offsets", {"group_id": self.group_id, "now": now})
        duplicates = valid - landed
        sqlfiles.run(
            con,
            "ingest/record_batch",
            {
                "batch_id": batch_id, "source": source, "started_at": started_at, "now": now,
                "messages": messages, "landed": landed, "duplicates": duplicates, "dead_lettered": dead,
                "quarantined": quarantined,
            },
        )
        for hook in self.after_land:
            hook(con, ctx)
        if dead:
            log.warning("batch %d: %d of %d messages dead-lettered", batch_id, dead, messages)
        return BatchResult(batch_id, messages, landed, duplicates, dead, quarantined, now)

    def stored_offsets_from_cursor(self) -> dict[tuple[str, int], int]:
        """Landed offsets per (topic, partition), read on a cursor of its own (safe beside a landing)."""
        return {key: offset for key, (offset, _topic_id) in self.stored_positions().items()}

    def stored_positions(self) -> dict[tuple[str, int], tuple[int, str | None]]:
        """(next offset, topic id) per (topic, partition) for this consumer group."""
        with self.con.cursor() as cur:
            rows = sqlfiles.run(cur, "ingest/stored_offsets", {"group_id": self.group_id}).fetchall()
        return {(topic, int(partition)): (int(offset), topic_id) for topic, partition, offset, topic_id in rows}

    def record_lag(self, rows: list[tuple[str, int, int, int, int]], observed_at: datetime) -> None:
        """Store the latest lag per partition: (topic, partition, end_offset, next_offset, lag)."""
        with self.con.cursor() as cur:
            for topic, partition, end, done, lag in rows:
                sqlfiles.run(cur, "ingest/record_lag", {
                    "topic": topic, "partition": partition, "end_offset": end, "next_offset": done,
                    "lag": lag, "now": observed_at,
                })


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def empty_batch() -> RawBatch:
    return RawBatch()


def batch_from_rows(rows: Sequence[tuple[str | None, str, int, bytes]]) -> pa.Table:
    """A file batch: (event_type, source_file, source_line, raw bytes) per row."""
    b = RawBatch()
    for event_type, source_file, source_line, raw in rows:
        b.event_type.append(event_type)
        b.topic.append(None)
        b.partition.append(None)
        b.offset.append(None)
        b.source_file.append(source_file)
        b.source_line.append(source_line)
        b.message_key.append(None)
        b.raw.append(raw)
        b.produced_at_ms.append(None)
        b.topic_id.append(None)
    return b.to_arrow()
