"""The pipeline's open batch: it closes at its event count or its size in memory, whichever comes first."""

from __future__ import annotations

import threading

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
