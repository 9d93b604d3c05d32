"""The pipeline's open batch: it closes at its event count or its size in memory, whichever comes first."""

from __future__ import annotations

import threading
import time

from ingest.consumer import _OpenBatch
from ingest.landing import RawBatch


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
    started = time.monotonic()
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
