"""The lake's log: what N pipelines of one consumer group share (``store = "ducklake"``).

Per batch a pipeline commits, in ONE lake transaction, the batch's raw messages (append-only), a commit
record, and the next offset of every partition the batch read, each in that partition's own offset table.
DuckLake checks conflicts per table: the append-only tables never conflict, and two transactions writing
one partition's offset table do (each deletes its one row). On assignment a pipeline claims its partitions
(a write of their offset tables), so a stale owner still landing a batch of them after the rebalance fails
at commit; its retry finds another owner and gives the batch up (``Fenced``): the new owner reads it again
from the lake's offsets. A commit that conflicts for any other reason (a concurrent table creation, a
claim of another pipeline's partitions in the same moment) is retried, never lost.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from customer_health.clock import utc_now
from customer_health.sqlfiles import Statements, statement, transaction

log = logging.getLogger(__name__)

Partition = tuple[str, int]
_OFFSETS_TOKEN = "__offsets__"


class Fenced(Exception):
    """The batch read partitions another pipeline owns now: it was not committed (the owner lands it)."""


@dataclass(frozen=True)
class Position:
    next_offset: int | None  # None: nothing landed yet
    topic_id: str | None
    owner: str


def offsets_table(group_id: str, topic: str, partition: int) -> str:
    """The name of a partition's offset table (an identifier whatever the topic's characters)."""
    digest = hashlib.sha256(f"{group_id}\x00{topic}\x00{partition}".encode()).hexdigest()[:20]
    return f"offsets_{digest}"


def batch_offsets(table: pa.Table) -> dict[Partition, tuple[int, str | None]]:
    """(next offset, topic id) per (topic, partition) of the Kafka messages of an ``incoming`` batch."""
    kafka = table.filter(pc.is_valid(table["offset"]))
    if kafka.num_rows == 0:
        return {}
    grouped = kafka.group_by(["topic", "partition"]).aggregate([("offset", "max"), ("topic_id", "max")])
    return {
        (str(row["topic"]), int(row["partition"])): (int(row["offset_max"]) + 1, row["topic_id_max"])
        for row in grouped.to_pylist()
    }


class LakeLog:
    """The consumer group's log in the lake, on a connection of its own with the lake attached as ``lake``."""

    def __init__(self, con: duckdb.DuckDBPyConnection, group_id: str, member: str, retries: int = 20) -> None:
        self.con = con
        self.group_id = group_id
        self.member = member
        self.retries = retries
        self.statements = Statements(con, prepare=False)
        self.conflicts = 0  # commits retried after a conflict (tests and benchmarks read it)

    # -- schema ---------------------------------------------------------------------------------------------

    def ensure_log(self) -> None:
        self._retrying("create the lake's log", lambda: self._in_transaction(
            lambda: self.statements.run("lake/create_log")))

    def _ensure_partitions(self, partitions: Iterable[Partition]) -> None:
        missing = [p for p in partitions if offsets_table(self.group_id, *p) not in self._known_tables()]
        if not missing:
            return

        def create() -> None:
            for topic, partition in missing:
                slot = offsets_table(self.group_id, topic, partition)
                self._run_offsets("lake/create_partition_offsets", slot)
                self._run_offsets("lake/seed_partition_offsets", slot, {"now": utc_now()})
                self.statements.run("lake/register_slot", {"group_id": self.group_id, "topic": topic,
                                                           "partition": partition, "slot": slot})
        self._retrying("create partition offset tables", lambda: self._in_transaction(create))

    def _known_tables(self) -> set[str]:
        rows = self.con.execute("select table_name from duckdb_tables() where database_name = 'lake'").fetchall()
        return {str(name) for (name,) in rows}

    # -- positions ------------------------------------------------------------------------------------------

    def claim(self, partitions: Iterable[Partition]) -> dict[Partition, Position]:
        """Make this pipeline the owner of ``partitions`` (fencing their previous owner); their positions."""
        wanted = sorted(set(partitions))
        self._ensure_partitions(wanted)

        def claim_all() -> dict[Partition, Position]:
            positions = {}
            now = utc_now()
            for topic, partition in wanted:
                slot = offsets_table(self.group_id, topic, partition)
                offset, topic_id, _owner = self._read(slot)
                self._run_offsets("lake/write_partition_offsets", slot, {
                    "next_offset": offset, "topic_id": topic_id, "owner": self.member, "now": now})
                positions[(topic, partition)] = Position(None if offset < 0 else offset, topic_id, self.member)
            return positions
        claimed = self._retrying("claim partitions", lambda: self._in_transaction(claim_all))
        log.info("claimed %s in the lake", ", ".join(f"{t}[{p}]" for t, p in wanted) or "nothing")
        return claimed

    def positions(self) -> dict[Partition, Position]:
        """Every partition of the group the lake knows, with its next offset and owner."""
        found = {}
        for topic, partition, slot in self.statements.rows("lake/group_slots", {"group_id": self.group_id}):
            if (topic, int(partition)) in found:
                continue
            offset, topic_id, owner = self._read(slot)
            found[(str(topic), int(partition))] = Position(None if offset < 0 else offset, topic_id, owner)
        return found

    # -- commits --------------------------------------------------------------------------------------------

    def commit(self, table: pa.Table) -> str:
        """Commit a batch (an ``incoming`` relation) and its offsets in one lake transaction; its commit id.

        Raises Fenced (nothing committed) when one of its partitions is owned by another pipeline.
        """
        offsets = batch_offsets(table)
        self._ensure_partitions(offsets)
        commit_id = str(uuid.uuid4())

        def write() -> None:
            now = utc_now()
            for (topic, partition), (next_offset, topic_id) in sorted(offsets.items()):
                slot = offsets_table(self.group_id, topic, partition)
                _offset, _topic_id, owner = self._read(slot)
                if owner != self.member:
                    raise Fenced(f"{topic}[{partition}] is owned by {owner} now")
                self._run_offsets("lake/write_partition_offsets", slot, {
                    "next_offset": next_offset, "topic_id": topic_id, "owner": self.member, "now": now})
            self.con.register("lake_batch", table)
            try:
                self.statements.run("lake/insert_raw_messages", {"commit_id": commit_id})
            finally:
                self.con.unregister("lake_batch")
            self.statements.run("lake/insert_commit", {
                "commit_id": commit_id, "group_id": self.group_id, "pipeline": self.member, "now": now,
                "messages": table.num_rows})
        self._retrying("commit a batch", lambda: self._in_transaction(write))
        return commit_id

    def commits(self) -> list[tuple[str, str, int]]:
        """(commit id, pipeline, messages) of every commit of the group, oldest first."""
        return [(str(c), str(p), int(n)) for c, p, n in
                self.statements.rows("lake/commits", {"group_id": self.group_id})]

    def messages(self, commit_ids: list[str]) -> pa.Table:
        """The messages of ``commit_ids`` as an ``incoming`` relation (ordinal, then INCOMING_SCHEMA's columns)."""
        return self.statements.run("lake/commit_messages", {"commit_ids": commit_ids}).fetch_arrow_table()

    # -- helpers --------------------------------------------------------------------------------------------

    def _read(self, slot: str) -> tuple[int, str | None, str]:
        row = self.con.execute(_offsets_sql("lake/read_partition_offsets", slot)).fetchone()
        if row is None:
            return -1, None, "nobody"
        return int(row[0]), row[1], str(row[2])

    def _run_offsets(self, name: str, slot: str, params: Mapping[str, Any] | None = None) -> None:
        sql = _offsets_sql(name, slot)
        used = {k: v for k, v in (params or {}).items() if f"${k}" in sql}
        for one in self.con.extract_statements(sql):
            text = one.query
            self.con.execute(text, {k: v for k, v in used.items() if f"${k}" in text})

    def _in_transaction(self, work: Any) -> Any:
        with transaction(self.con):
            return work()

    def _retrying(self, what: str, work: Any) -> Any:
        delay = 0.01
        for attempt in range(1, self.retries + 1):
            try:
                return work()
            except duckdb.TransactionException as exc:
                if attempt == self.retries:
                    raise RuntimeError(f"the lake refused to {what} {attempt} times in a row "
                                       f"(last: {str(exc).splitlines()[-1]}); nothing of it was committed") from exc
                self.conflicts += 1
                log.info("lake commit conflict while trying to %s (attempt %d), retrying: %s",
                         what, attempt, str(exc).splitlines()[-1])
                time.sleep(delay)
                delay = min(1.0, delay * 2)
        raise AssertionError("unreachable")


def _offsets_sql(name: str, slot: str) -> str:
    if not slot.isidentifier():
        raise ValueError(f"not an identifier: {slot!r}")
    return statement(name).replace(_OFFSETS_TOKEN, slot)
