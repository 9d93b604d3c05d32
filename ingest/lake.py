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
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from customer_health.clock import utc_now
from customer_health.sqlfiles import Statements, statement, transaction
from ingest.landing import BatchResult, Lander, RawBatch

if TYPE_CHECKING:
    from ingest.checkpoint import Checkpointer

log = logging.getLogger(__name__)

Partition = tuple[str, int]
_OFFSETS_TOKEN = "__offsets__"


# In this order: files merged before the snapshots that still reference the small ones expire, which
# schedules those for the cleanup.
MAINTENANCE_STEPS = ("flush_inlined", "merge_files", "expire_snapshots", "cleanup_files")


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


def lake_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The names of the tables in the lake attached on ``con`` as ``lake``."""
    return {str(name) for (name,) in Statements(con, prepare=False).rows("lake/tables")}


class LakeLog:
    """The consumer group's log in the lake, on a connection of its own with the lake attached as ``lake``."""

    def __init__(self, con: duckdb.DuckDBPyConnection, group_id: str, member: str, retries: int = 20) -> None:
        self.con = con
        self.group_id = group_id
        self.member = member
        self.retries = retries
        self.statements = Statements(con, prepare=False)
        self.conflicts = 0  # commits retried after a conflict (tests and benchmarks read it)
        # One connection, used by the landing thread and, on assignment, the poll thread: one call at a time.
        self._lock = threading.RLock()
        self._ready: set[str] = set()  # offset tables known to exist

    # -- schema ---------------------------------------------------------------------------------------------

    def ensure_log(self) -> None:
        self._retrying("create the lake's log", lambda: self._in_transaction(
            lambda: self.statements.run("lake/create_log")))

    def has_log(self) -> bool:
        """Whether a pipeline created the log in this lake."""
        return {"lake_commits", "raw_messages", "partition_slots"} <= self._known_tables()

    def _ensure_partitions(self, partitions: Iterable[Partition]) -> None:
        wanted = [p for p in partitions if offsets_table(self.group_id, *p) not in self._ready]
        if not wanted:
            return
        with self._lock:
            known = self._known_tables()
            self._ready |= {offsets_table(self.group_id, *p) for p in wanted} & known
            missing = [p for p in wanted if offsets_table(self.group_id, *p) not in known]
            if missing:
                self._create_partitions(missing)
                self._ready |= {offsets_table(self.group_id, *p) for p in missing}

    def _create_partitions(self, missing: list[Partition]) -> None:

        def create() -> None:
            for topic, partition in missing:
                slot = offsets_table(self.group_id, topic, partition)
                self._run_offsets("lake/create_partition_offsets", slot)
                self._run_offsets("lake/seed_partition_offsets", slot, {"now": utc_now()})
                self.statements.run("lake/register_slot", {"group_id": self.group_id, "topic": topic,
                                                           "partition": partition, "slot": slot})
        self._retrying("create partition offset tables", lambda: self._in_transaction(create))

    def _known_tables(self) -> set[str]:
        return lake_tables(self.con)

    # -- positions ------------------------------------------------------------------------------------------

    def claim(self, partitions: Iterable[Partition]) -> dict[Partition, Position]:
        """Make this pipeline the owner of ``partitions`` (fencing their previous owner); their positions."""
        wanted = sorted(set(partitions))
        with self._lock:
            return self._claim(wanted)

    def _claim(self, wanted: list[Partition]) -> dict[Partition, Position]:
        self._ensure_partitions(wanted)

        def claim_all() -> dict[Partition, Position]:
            positions = {}
            now = utc_now()
            for topic, partition in wanted:
                slot = offsets_table(self.group_id, topic, partition)
                offset, topic_id, _owner = self._read(slot)
                self._run_offsets("lake/claim_partition_offsets", slot, {"owner": self.member, "now": now})
                positions[(topic, partition)] = Position(None if offset < 0 else offset, topic_id, self.member)
            return positions
        claimed = self._retrying("claim partitions", lambda: self._in_transaction(claim_all))
        log.info("claimed %s in the lake", ", ".join(f"{t}[{p}]" for t, p in wanted) or "nothing")
        return claimed

    def positions(self) -> dict[Partition, Position]:
        """Every partition of the group the lake knows, with its next offset and owner."""
        with self._lock:
            return self._positions()

    def _positions(self) -> dict[Partition, Position]:
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
        with self._lock:
            return self._commit(table)

    def _commit(self, table: pa.Table) -> str:
        offsets = batch_offsets(table)
        self._ensure_partitions(offsets)
        commit_id = str(uuid.uuid4())

        def write() -> None:
            now = utc_now()
            for (topic, partition), (next_offset, topic_id) in sorted(offsets.items()):
                slot = offsets_table(self.group_id, topic, partition)
                advanced = self._run_offsets("lake/advance_partition_offsets", slot, {
                    "next_offset": next_offset, "topic_id": topic_id, "owner": self.member, "now": now})
                if advanced is None or int(advanced[0]) == 0:
                    raise Fenced(f"{topic}[{partition}] is owned by {self._read(slot)[2]} now")
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
        with self._lock:
            rows = self.statements.rows("lake/commits", {"group_id": self.group_id})
        return [(str(c), str(p), int(n)) for c, p, n in rows]

    def messages(self, commit_ids: list[str]) -> pa.Table:
        """The messages of ``commit_ids`` as an ``incoming`` relation (ordinal, then INCOMING_SCHEMA's columns)."""
        with self._lock:
            return self.statements.run("lake/commit_messages", {"commit_ids": commit_ids}).fetch_arrow_table()

    # -- plug-ins' state ------------------------------------------------------------------------------------

    def commit_owned(self, partitions: Iterable[Partition], work: Callable[[duckdb.DuckDBPyConnection], Any]) -> Any:
        """Run ``work(con)`` in one lake transaction that commits only while this pipeline owns every one of
        ``partitions`` (a plug-in's state of their customers, e.g. its alerts); what ``work`` returns.

        Each partition's offset table is rewritten unchanged, so a claim by another pipeline in the meantime
        conflicts at commit, and the retry raises Fenced: nothing of ``work`` is committed. With no partitions:
        a lake transaction of ``work``, retried after a conflict."""
        wanted = sorted(set(partitions))
        with self._lock:
            self._ensure_partitions(wanted)

            def write() -> Any:
                for topic, partition in wanted:
                    slot = offsets_table(self.group_id, topic, partition)
                    held = self._run_offsets("lake/hold_partition_offsets", slot, {"owner": self.member})
                    if held is None or int(held[0]) == 0:
                        raise Fenced(f"{topic}[{partition}] is owned by {self._read(slot)[2]} now")
                return work(self.con)
            return self._retrying("commit a plug-in's state", lambda: self._in_transaction(write))

    def read(self, work: Callable[[duckdb.DuckDBPyConnection], Any]) -> Any:
        """``work(con)`` on the lake's connection, one call at a time with the landing thread's commits."""
        with self._lock:
            return work(self.con)

    # -- maintenance ----------------------------------------------------------------------------------------

    def maintain(self, older_than: datetime) -> dict[str, Any]:
        """DuckLake maintenance, from one place (``customer-health lake-maintain``): inlined rows to files,
        adjacent small files merged, snapshots before ``older_than`` (naive UTC) expired, files no snapshot
        needs deleted. Each step retries a conflict with a pipeline's commit. Returns what each step did and
        the live data files and snapshots before and after."""
        with self._lock:
            before = self._counts()
            steps: dict[str, int] = {}
            for step in MAINTENANCE_STEPS:
                # fetchall: a maintenance call whose result is left open (fetchone) was never committed.
                steps[step] = int(self._retrying(f"run {step}", lambda step=step: self.statements.rows(
                    f"lake/maintain_{step}", {"older_than": older_than})[0][0]))
            after = self._counts()
        return {"steps": steps, "data_files": {"before": int(before[0]), "after": int(after[0])},
                "snapshots": {"before": int(before[1]), "after": int(after[1])}}

    def _counts(self) -> tuple[Any, ...]:
        """Live data files and snapshots."""
        return self.statements.rows("lake/data_files")[0]

    # -- helpers --------------------------------------------------------------------------------------------

    def _read(self, slot: str) -> tuple[int, str | None, str]:
        row = self.con.execute(_offsets_sql("lake/read_partition_offsets", slot)).fetchone()
        if row is None:
            return -1, None, "nobody"
        return int(row[0]), row[1], str(row[2])

    def _run_offsets(self, name: str, slot: str, params: Mapping[str, Any] | None = None) -> tuple[Any, ...] | None:
        """Run a statement on a partition's offset table; the first row it returns, if any."""
        sql = _offsets_sql(name, slot)
        row = None
        for one in self.con.extract_statements(sql):
            text = one.query
            row = self.con.execute(text, {k: v for k, v in (params or {}).items() if f"${k}" in text}).fetchone()
        return row

    def _in_transaction(self, work: Any) -> Any:
        with transaction(self.con):
            return work()

    def _retrying(self, what: str, work: Any) -> Any:
        with self._lock:
            return self._retrying_locked(what, work)

    def _retrying_locked(self, what: str, work: Any) -> Any:
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


@dataclass
class LakeLander(Lander):
    """Lands a pipeline's batches in the lake first, then in its working store (in memory: model, health).

    The working store holds the whole lake: the batches this pipeline commits, and every other pipeline's
    commits, landed from the lake at most every ``sync_interval_s`` and whenever partitions are assigned,
    so a new owner's customers carry their full history and the portfolio norms are the whole population's.
    ``checkpointer`` (ingest.checkpoint): the leader writes a checkpoint of it after a batch, every interval.
    """

    log_: LakeLog | None = None
    discard_on_revoke: bool = True
    claim_after_assignment: bool = True
    sync_interval_s: float = 5.0
    applied: set[str] = field(default_factory=set)
    fenced: int = 0  # batches given up because their partitions had moved (tests read it)
    checkpointer: Checkpointer | None = None
    _synced_at: float = field(default=0.0, init=False)

    @property
    def lake(self) -> LakeLog:
        if self.log_ is None:
            raise RuntimeError("LakeLander needs its LakeLog")
        return self.log_

    def land(self, batch: RawBatch | pa.Table, source: str) -> BatchResult:
        table = batch.to_arrow() if isinstance(batch, RawBatch) else batch
        if time.monotonic() - self._synced_at >= self.sync_interval_s:
            self.sync()
        try:
            commit_id = self.lake.commit(table)
        except Fenced as exc:
            self.fenced += 1
            log.warning("batch of %d messages given up, its new owner lands it from the lake's offsets: %s",
                        table.num_rows, exc)
            return BatchResult(0, table.num_rows, 0, 0, 0, 0, utc_now(), fenced=True)
        self.applied.add(commit_id)
        self._record_customer_partitions(table)
        result = super().land(table, source)
        if self.checkpointer is not None and self.checkpointer.due(self.con):
            self.checkpointer.write(self.con, self.lake, self.applied)
        return result

    def idle(self) -> None:
        """Nothing: a lake pipeline derives the others' commits as it lands them (sync), and its idle work would
        need the lake's view of the backlog, which its working store does not keep."""

    def final_checkpoint(self) -> None:
        """At a clean stop: one more checkpoint when this pipeline led at its last batch or assignment."""
        if self.checkpointer is not None and self.checkpointer.interval_s > 0 and self.checkpointer.was_leader:
            self.checkpointer.write(self.con, self.lake, self.applied)

    def _record_customer_partitions(self, table: pa.Table) -> None:
        """Where the batch's customers' messages arrive, before its plug-ins run: who owns a customer (its alerts,
        its health per batch) counts the partitions of the batch that first brings it."""
        with self.con.cursor() as cur:
            cur.register("lake_incoming", table)
            Statements(cur).run("lake/record_customer_partitions")
            cur.unregister("lake_incoming")

    def sync(self) -> int:
        """Land every lake commit of the group not in the working store yet; the messages landed."""
        self._synced_at = time.monotonic()
        new = [commit_id for commit_id, _pipeline, _n in self.lake.commits() if commit_id not in self.applied]
        if not new:
            return 0
        table = self.lake.messages(new)
        if table.num_rows:
            self._record_customer_partitions(table)
            super().land(table, "lake")
        self.applied.update(new)
        return table.num_rows

    def claim_positions(self, partitions: Iterable[Partition]) -> dict[Partition, tuple[int, str | None]]:
        """Claim the partitions in the lake; the landing thread lands what other pipelines committed (the new
        partitions' history included) before its next batch."""
        positions = self.lake.claim(partitions)
        self._synced_at = float("-inf")
        with self.con.cursor() as cur:
            Statements(cur).run("lake/release_partitions")
            Statements(cur).run("lake/own_partitions", {"owned": json.dumps(sorted(positions))})
        if self.checkpointer is not None:
            self.checkpointer.note_leadership(self.con)
        return {p: (pos.next_offset, pos.topic_id) for p, pos in positions.items() if pos.next_offset is not None}


    def release_partitions(self) -> None:
        """A rebalance took the partitions: no alert is raised for their customers until the next assignment."""
        with self.con.cursor() as cur:
            Statements(cur).run("lake/release_partitions")
