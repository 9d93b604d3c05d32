"""The pipeline's open batch: it closes at its event count or its size in memory, whichever comes first."""

from __future__ import annotations

import threading
import time
from datetime import datetime

from ingest.consumer import PipelineStats, _LandingThread, _OpenBatch
from ingest.landing import BatchResult, RawBatch


def messages(n: int, size: int) -> RawBatch:
    batch = RawBatch()
    for offset in range(n):
        batch.add_kafka("visits", "visits", 0, offset, b"k", b"x" * size, 0)
    return batch


def test_a_batch_counts_the_memory_its_messages_take() -> None:
    batch = messages(10, 1000)
    assert 10 * 1000 <= batch.nbytes < 10 * 1000 + 2000
    batch.extend(messages(5, 1000))
    assert 15 * 1000 <= batch.nbytes < 15 * 1000 + 3000


def test_an_open_batch_over_its_byte_bound_is_full_and_taken_whatever_its_count_or_age() -> None:
    open_batch = _OpenBatch(max_events=1000, max_wait_s=3600, max_bytes=10_000)
    assert open_batch.room() == 1000
    open_batch.add(messages(30, 500), {})
    assert open_batch.room() == 0  # the poll loop waits instead of adding more
    taken: list[RawBatch] = []
    taker = threading.Thread(target=lambda: taken.append(open_batch.take()[0]))
    taker.start()
    taker.join(10)  # not an hour: the batch is full by size
    assert not taker.is_alive()
    assert len(taken[0]) == 30
    assert open_batch.room() == 1000


def test_an_open_batch_under_both_bounds_leaves_room_by_count() -> None:
    open_batch = _OpenBatch(max_events=1000, max_wait_s=3600, max_bytes=1_000_000)
    open_batch.add(messages(30, 500), {})
    assert open_batch.room() == 970


def test_an_open_batch_left_empty_for_the_idle_interval_hands_out_an_idle_turn() -> None:
    from ingest.consumer import IDLE
    open_batch = _OpenBatch(max_events=1000, max_wait_s=0.05, max_bytes=1_000_000)
    # not before the consumer's lag is known (what an earlier run recorded says nothing of the backlog now)
    closer = threading.Timer(0.6, open_batch.close)
    closer.start()
    assert open_batch.take(idle_s=0.1) is None
    open_batch.closed = False
    open_batch.lag_known = True
    open_batch.active_at = started = time.monotonic()
    assert open_batch.take(idle_s=0.3) is IDLE
    assert time.monotonic() - started >= 0.29
    assert open_batch.landing  # a drain waits for the idle turn as for a batch
    open_batch.landed(failed=False)
    # a batch added meanwhile is taken as a batch, and the idle interval counts again from its landing
    open_batch.add(messages(3, 10), {})
    taken = open_batch.take(idle_s=0.3)
    assert not isinstance(taken, type(IDLE)) and taken is not None and len(taken[0]) == 3
    open_batch.landed(failed=False)
    started = time.monotonic()
    assert open_batch.take(idle_s=0.3) is IDLE
    assert time.monotonic() - started >= 0.29
    open_batch.landed(failed=False)
    open_batch.close()
    assert open_batch.take(idle_s=0.3) is None  # closed: the landing thread ends, no idle turn


class _Lander:
    """A lander whose first idle turn fails."""

    def __init__(self) -> None:
        self.idle_turns = 0
        self.landed: list[int] = []

    def idle(self) -> None:
        self.idle_turns += 1
        if self.idle_turns == 1:
            raise RuntimeError("the idle work failed")

    def land(self, batch: RawBatch, source: str) -> BatchResult:
        self.landed.append(len(batch))
        return BatchResult(len(self.landed), len(batch), len(batch), 0, 0, 0, datetime(2026, 12, 6))


def test_a_failed_idle_turn_is_retried_later_and_stops_no_landing() -> None:
    open_batch = _OpenBatch(max_events=1000, max_wait_s=0.05, max_bytes=1_000_000)
    open_batch.lag_known = True
    lander = _Lander()
    thread = _LandingThread(lander, PipelineStats(), lambda result: None, open_batch, idle_s=0.1)  # type: ignore[arg-type]
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while lander.idle_turns < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert lander.idle_turns >= 2 and thread.failure is None and thread.is_alive()
        open_batch.add(messages(4, 10), {})
        while not lander.landed and time.monotonic() < deadline:
            time.sleep(0.02)
        assert lander.landed == [4]
    finally:
        open_batch.close()
        thread.join(10)
    assert not thread.is_alive() and thread.failure is None
