"""The pipeline's Kafka side: poll, hand micro-batches to the landing thread, commit after landing.

Delivery: every message is landed exactly once in DuckDB. The next offset per partition is written in
the same DuckDB transaction as the batch; on (re)assignment the consumer seeks to those offsets, so a
kill -9 between the DuckDB commit and the Kafka commit neither loses nor repeats anything. Kafka's
committed offsets follow DuckDB's and serve monitoring (consumer-group lag) only.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import queue
import re
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from customer_health.clock import utc_now
from customer_health.config import Settings
from ingest.landing import BatchResult, Lander, RawBatch

log = logging.getLogger(__name__)

_LAG_INTERVAL_S = 5.0
# The longest wait between idle turns after failed ones (seconds).
_IDLE_BACKOFF_MAX_S = 300.0
# How long a thread may hold the GIL while another waits for it (seconds; Python's default is 0.005).
# DuckDB's Python client takes the GIL back after every task of a statement (to check for Ctrl-C), so
# while the poll thread runs kafka-python's pure-Python decoding the landing thread waits up to this long
# after each of them, which multiplied the cost of a batch (measured in bench/landing_cost.py, bench/RESULTS.md).
GIL_SWITCH_INTERVAL_S = 0.0001


@dataclass
class PipelineStats:
    batches: int = 0
    messages: int = 0
    landed: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    fenced: int = 0  # batches given up because their partitions moved (BatchResult.fenced)
    # When the first poll that returned records started (UTC): consuming began, the group join is behind.
    first_polled_at: datetime | None = None

    def add(self, result: BatchResult) -> None:
        if result.fenced:
            self.fenced += 1
            return
        self.batches += 1
        self.messages += result.messages
        self.landed += result.landed
        self.duplicates += result.duplicates
        self.dead_lettered += result.dead_lettered


class _Idle:
    """What ``_OpenBatch.take`` returns when nothing was open for the idle interval."""


IDLE = _Idle()


class _OpenBatch:
    """The batch the poll thread fills and the landing thread takes whole.

    While one batch lands, arriving events gather here; the next landing takes all of them (up to
    ``max_events`` events or ``max_bytes`` of Arrow buffers). Under load batches grow by themselves, so the
    fixed cost of a landing (planning, quality suites, health refresh) is shared by more events and latency
    stays near one landing time instead of growing behind a queue of small batches. A full open batch
    blocks the poll thread (backpressure; heartbeats run on kafka-python's IO thread meanwhile).
    """

    def __init__(self, max_events: int, max_wait_s: float, max_bytes: int) -> None:
        self.max_events = max_events
        self.max_wait_s = max_wait_s
        self.max_bytes = max_bytes
        self.cond = threading.Condition()
        self.batch = RawBatch()
        self.offsets: dict[TopicPartition, int] = {}
        self.opened_at = 0.0
        self.flushing = False  # land what is open now, whatever its age (drain)
        self.closed = False  # no more batches: the landing thread ends once the open batch is empty
        self.landing = False  # the landing thread holds a taken batch (or runs the idle hooks)
        self.failed = False
        self.active_at = time.monotonic()  # the last batch added, landed, or idle turn
        # The consumer's lag was recorded since the last assignment: only then may an idle turn run (its work
        # reads the recorded lag, and what an earlier run recorded knows nothing of the backlog now).
        self.lag_known = False

    def full(self) -> bool:
        return len(self.batch) >= self.max_events or self.batch.nbytes >= self.max_bytes

    def room(self) -> int:
        """Events the poll thread may add now; waits (bounded) while the open batch is full."""
        with self.cond:
            self.cond.wait_for(lambda: not self.full() or self.failed, timeout=1.0)
            return 0 if self.full() else self.max_events - len(self.batch)

    def add(self, batch: RawBatch, offsets: dict[TopicPartition, int]) -> None:
        with self.cond:
            if not self.batch:
                self.opened_at = time.monotonic()
            self.batch.extend(batch)
            self.offsets.update(offsets)
            self.cond.notify_all()

    def take(self, idle_s: float = 0.0) -> tuple[RawBatch, dict[TopicPartition, int]] | _Idle | None:
        """The open batch once it is full, old enough or flushed; None once closed and empty; IDLE when nothing
        was open for ``idle_s`` seconds since the last batch or idle turn (0: never) and the lag is known. An
        idle turn holds ``landing`` like a batch: a drain (rebalance, shutdown) waits for it."""
        with self.cond:
            while True:
                if self.batch and (
                    self.full() or self.flushing or self.closed
                    or time.monotonic() - self.opened_at >= self.max_wait_s
                ):
                    taken = (self.batch, self.offsets)
                    self.batch, self.offsets = RawBatch(), {}
                    self.landing = True
                    self.cond.notify_all()
                    return taken
                if self.closed:
                    return None
                if not self.batch and idle_s > 0 and self.lag_known and not self.flushing:
                    idle_for = time.monotonic() - self.active_at
                    if idle_for >= idle_s:
                        self.landing = True
                        return IDLE
                    timeout = min(self.max_wait_s, idle_s - idle_for)
                else:
                    timeout = self.max_wait_s if not self.batch else self.opened_at + self.max_wait_s - time.monotonic()
                self.cond.wait(max(0.001, timeout))

    def landed(self, failed: bool) -> None:
        with self.cond:
            self.landing = False
            self.active_at = time.monotonic()
            self.failed = self.failed or failed
            self.cond.notify_all()

    def drain(self) -> None:
        """Land everything added so far and wait for it (rebalance, shutdown)."""
        with self.cond:
            self.flushing = True
            self.cond.notify_all()
            self.cond.wait_for(lambda: (not self.batch and not self.landing) or self.failed)
            self.flushing = False

    def discard(self) -> None:
        """Forget what is open (not landed) and wait for the batch being landed, if any."""
        with self.cond:
            self.batch, self.offsets = RawBatch(), {}
            self.cond.notify_all()
            self.cond.wait_for(lambda: not self.landing or self.failed)

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()


class _LandingThread(threading.Thread):
    """Lands batches in order on the owner connection; the poll thread commits what it reports. When nothing
    arrived for ``idle_s`` seconds it runs the lander's idle hooks (work a batch put off), on the same thread.
    A failed batch stops the pipeline; a failed idle turn does not (the next batch does the same work, and
    fails there if it must): it is logged and the next idle turn waits twice as long, up to _IDLE_BACKOFF_MAX_S."""

    def __init__(
        self, lander: Lander, stats: PipelineStats, on_landed: Callable[[BatchResult], None], open_batch: _OpenBatch,
        idle_s: float = 0.0,
    ) -> None:
        super().__init__(name="landing", daemon=True)
        self.lander = lander
        self.stats = stats
        self.on_landed = on_landed
        self.open_batch = open_batch
        self.idle_s = idle_s
        self._idle_failures = 0
        self.landed_offsets: queue.Queue[dict[TopicPartition, int]] = queue.Queue()
        self.failure: BaseException | None = None

    def run(self) -> None:
        while (taken := self.open_batch.take(self._idle_interval())) is not None:
            try:
                if isinstance(taken, _Idle):
                    self._idle()
                else:
                    self._land(*taken)
            except BaseException as exc:  # surfaced to the poll thread, which stops the pipeline
                self.failure = exc
                self.open_batch.landed(failed=True)
                return
            self.open_batch.landed(failed=False)

    def _land(self, batch: RawBatch, offsets: dict[TopicPartition, int]) -> None:
        result = self.lander.land(batch, "kafka")
        self.stats.add(result)
        if not result.fenced:  # nothing of a batch given up is committed to Kafka, nor seen by plug-ins
            self.landed_offsets.put(offsets)
            self.on_landed(result)

    def _idle_interval(self) -> float:
        if self.idle_s <= 0 or not self._idle_failures:
            return self.idle_s
        return min(self.idle_s * 2 ** self._idle_failures, max(self.idle_s, _IDLE_BACKOFF_MAX_S))

    def _idle(self) -> None:
        """One idle turn; an error is logged and backs the next one off (an interrupt or exit still stops)."""
        try:
            self.lander.idle()
        except Exception:  # logged by the lander
            self._idle_failures = min(self._idle_failures + 1, 16)
            log.warning("idle turn failed (%d in a row); the next one in %.0f s", self._idle_failures,
                        self._idle_interval())
        else:
            self._idle_failures = 0


class Pipeline:
    """Consume the configured topics into DuckDB until ``stop`` is set."""

    def __init__(
        self,
        settings: Settings,
        lander: Lander,
        stop: threading.Event,
        on_landed: Callable[[BatchResult], None] = lambda result: None,
        on_tick: Callable[[], None] = lambda: None,
    ) -> None:
        self.settings = settings
        self.lander = lander
        self.stop = stop
        self.on_tick = on_tick
        self.stats = PipelineStats()
        self.type_by_topic = {topic: etype for etype, topic in settings.kafka.topics.by_type().items()}
        self._open = _OpenBatch(settings.pipeline.batch_max_events, settings.pipeline.batch_max_wait_ms / 1000,
                                settings.pipeline.batch_max_mb * 1024 * 1024)
        self._landing = _LandingThread(lander, self.stats, on_landed, self._open, settings.pipeline.idle_seconds)
        self._consumer: KafkaConsumer | None = None
        self._last_lag_at = 0.0
        self._lag_recorded = False  # since the last assignment
        # Assigned partitions waiting (paused) for their positions (Lander.claim_after_assignment).
        self._pending_assignment: set[TopicPartition] = set()

    def run(self) -> PipelineStats:
        """Consume until stopped; the open batch is landed and committed before returning."""
        with gil_switch_interval(GIL_SWITCH_INTERVAL_S):
            return self._run()

    def _run(self) -> PipelineStats:
        kafka = self.settings.kafka
        pipeline = self.settings.pipeline
        self._landing.start()
        instance_id = group_instance_id(self.settings)
        log.info("joining consumer group %s as %s", kafka.group_id,
                 f"static member {instance_id}" if instance_id else "a dynamic member")
        consumer = KafkaConsumer(
            **kafka.client_options(),
            group_id=kafka.group_id,
            client_id="customer-health-pipeline",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=pipeline.batch_max_events,
            session_timeout_ms=kafka.session_timeout_ms,
            heartbeat_interval_ms=kafka.heartbeat_interval_ms,
            max_poll_interval_ms=kafka.max_poll_interval_ms,
            fetch_max_bytes=64 * 1024 * 1024,
            max_partition_fetch_bytes=8 * 1024 * 1024,
            reconnect_backoff_max_ms=5000,
            group_instance_id=instance_id,
        )
        self._consumer = consumer
        consumer.subscribe(list(self.type_by_topic), listener=_SeekToLanded(self))
        poll_ms = max(10, pipeline.batch_max_wait_ms)
        try:
            while not self.stop.is_set():
                self._check_landing()
                self._commit_landed()
                if self._pending_assignment:
                    self._resume_assigned(consumer)
                room = self._open.room()
                if room == 0:
                    continue
                poll_started_at = utc_now()
                try:
                    polled = consumer.poll(timeout_ms=poll_ms, max_records=room)
                except KafkaError as exc:
                    log.warning("Kafka poll failed (%s); retrying", exc)
                    self.stop.wait(1.0)
                    continue
                if polled:
                    # The first lag after an assignment is recorded (committed) before the landing thread may take
                    # what was polled: the first batch's transaction then sees the backlog it belongs to (health
                    # defers history points, alerts hold back catching-up news). Later ones after the hand-off, so
                    # that reading the end offsets (~60 ms every 5 s) never delays a batch.
                    if not self._lag_recorded:
                        self._record_lag(force=True)
                    if self.stats.first_polled_at is None:
                        self.stats.first_polled_at = poll_started_at
                    self._open.add(*self._to_batch(consumer, polled))
                self._record_lag()
                self.on_tick()
            self._drain()
        finally:
            self._open.close()
            self._landing.join()
            self._commit_landed()
            consumer.close(autocommit=False, timeout_ms=5000)
        self._check_landing()
        return self.stats

    def _to_batch(self, consumer: KafkaConsumer, polled: dict) -> tuple[RawBatch, dict[TopicPartition, int]]:
        batch = RawBatch()
        offsets: dict[TopicPartition, int] = {}
        for tp, records in polled.items():
            event_type = self.type_by_topic[tp.topic]
            topic_id = _topic_id(consumer, tp.topic)
            batch.add_records(event_type, tp.topic, tp.partition, records, topic_id)
            if records:
                offsets[tp] = records[-1].offset + 1
        return batch, offsets

    def _drain(self) -> None:
        """Land everything polled so far, then commit it to Kafka."""
        self._open.drain()
        self._check_landing()
        self._commit_landed()

    def _check_landing(self) -> None:
        if self._landing.failure is not None:
            raise self._landing.failure

    def _commit_landed(self) -> None:
        merged: dict[TopicPartition, int] = {}
        while True:
            try:
                merged.update(self._landing.landed_offsets.get_nowait())
            except queue.Empty:
                break
        if not merged or self._consumer is None:
            return
        try:
            self._consumer.commit({tp: OffsetAndMetadata(o, "", -1) for tp, o in merged.items()})
        except KafkaError as exc:
            # DuckDB holds the landed offsets; Kafka's copy catches up on the next commit.
            log.warning("Kafka offset commit failed (%s); DuckDB keeps the landed offsets", exc)

    def _resume_assigned(self, consumer: KafkaConsumer) -> None:
        """Claim the partitions assigned by the last rebalance, seek them to their positions and resume them."""
        pending = self._pending_assignment & set(consumer.assignment())
        self._pending_assignment = set()
        if not pending:
            return
        stored = self.lander.claim_positions((tp.topic, tp.partition) for tp in pending)
        for tp in pending:
            seek_to_landed(consumer, tp, stored)
        consumer.resume(*pending)
        self._lag_unknown()  # their backlog, if any, is measured before their first batch lands
        log.info("resumed %s", ", ".join(f"{tp.topic}[{tp.partition}]" for tp in sorted(pending)))

    def _record_lag(self, force: bool = False) -> None:
        now = time.monotonic()
        if (not force and now - self._last_lag_at < _LAG_INTERVAL_S) or self._consumer is None:
            return
        assigned = list(self._consumer.assignment())
        if not assigned:  # not in the group yet: the first assignment's lag is recorded at once
            return
        self._last_lag_at = now
        self._lag_recorded = True  # tried once since the assignment: a broker without end offsets delays no batch
        try:
            ends = self._consumer.end_offsets(assigned, timeout_ms=2000)
        except KafkaError as exc:
            log.warning("cannot read end offsets for lag (%s)", exc)
            return
        landed = self.lander.stored_offsets_from_cursor()
        rows = []
        for tp in assigned:
            end = int(ends.get(tp, 0))
            done = landed.get((tp.topic, tp.partition), 0)
            rows.append((tp.topic, tp.partition, end, done, max(0, end - done)))
        self.lander.record_lag(rows, utc_now())
        self._open.lag_known = True

    def _lag_unknown(self) -> None:
        """The assignment changed: its lag is recorded again before the next batch lands and before any idle turn."""
        self._lag_recorded = False
        self._open.lag_known = False


@contextlib.contextmanager
def gil_switch_interval(seconds: float) -> Iterator[None]:
    """Python's thread switch interval set to ``seconds`` while the block runs (it is process-wide)."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def _topic_id(consumer: KafkaConsumer, topic: str) -> str | None:
    """The broker's topic id from the consumer's cached metadata (local, never blocks).

    kafka-python exposes it only on its cluster metadata object; None where the broker sends no ids.
    """
    topic_id = consumer._client.cluster.topic_id(topic)
    return str(topic_id) if topic_id is not None else None


def group_instance_id(settings: Settings) -> str | None:
    """The pipeline's static group member id (None: dynamic membership). Derived, it names the host and
    the database file, so a restart on the same host and file is the same member."""
    kafka = settings.kafka
    if not kafka.static_membership:
        return None
    if kafka.group_instance_id:
        return kafka.group_instance_id
    if settings.store == "ducklake":
        return None  # N pipelines share one lake (and maybe one host): only a configured id tells them apart
    db = str(settings.db_path.expanduser().resolve())
    host = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname())[:100] or "host"
    return f"customer-health-{host}-{hashlib.sha256(db.encode()).hexdigest()[:12]}"


class _SeekToLanded(ConsumerRebalanceListener):
    """On assignment, resume each partition at the next offset landed in DuckDB.

    Runs on kafka-python's IO thread: it must not call blocking consumer APIs (commit, end_offsets).
    A landed offset beyond the log (topic recreated, e.g. an in-memory broker restarted) is reset by
    the consumer's auto_offset_reset=earliest.
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        if not revoked:
            return
        self.pipeline._pending_assignment -= set(revoked)
        self.pipeline._lag_unknown()
        self.pipeline.lander.release_partitions()
        if self.pipeline.lander.discard_on_revoke:
            # The lake holds the offsets: what was polled and not landed is read again by the next owner,
            # so hand the partitions back at once (waiting only for a batch already landing).
            self.pipeline._open.discard()
        else:  # land what was polled; DuckDB records its offsets (no Kafka call on this thread)
            self.pipeline._open.drain()

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        consumer = self.pipeline._consumer
        if consumer is None or not assigned:
            return
        log.info("assigned %s", ", ".join(f"{tp.topic}[{tp.partition}]" for tp in sorted(assigned)))
        self.pipeline._lag_unknown()
        if self.pipeline.lander.claim_after_assignment:
            consumer.pause(*assigned)
            self.pipeline._pending_assignment |= set(assigned)
            return
        stored = self.pipeline.lander.claim_positions((tp.topic, tp.partition) for tp in assigned)
        for tp in assigned:
            seek_to_landed(consumer, tp, stored)


def seek_to_landed(
    consumer: KafkaConsumer, tp: TopicPartition, stored: dict[tuple[str, int], tuple[int, str | None]],
) -> None:
    """Seek ``tp`` to its landed position (nothing landed: the consumer's reset policy, earliest)."""
    if (tp.topic, tp.partition) not in stored:
        return
    offset, landed_topic_id = stored[(tp.topic, tp.partition)]
    current_topic_id = _topic_id(consumer, tp.topic)
    if landed_topic_id and current_topic_id and landed_topic_id != current_topic_id:
        log.warning(
            "%s[%d] was recreated on the broker (topic id %s, was %s): its offsets start again, "
            "resuming from its beginning instead of landed offset %d",
            tp.topic, tp.partition, current_topic_id, landed_topic_id, offset,
        )
        consumer.seek_to_beginning(tp)
    else:
        consumer.seek(tp, offset)
