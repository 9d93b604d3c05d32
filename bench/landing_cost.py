"""Landing cost in-process (no Kafka): what landing costs per event, and what slows it down inside the pipeline.

    .venv/bin/python bench/landing_cost.py [--events 600000] [--gil-events 100000] [--batch-events 20000]

Lands the same simulated events through the pipeline's Lander on one DuckDB thread, as the pipeline does:

1. the landing path alone, and with the product's plug-ins (batch quality suites, health refresh, churn);
2. the landing path (its first --gil-events events) while a pure-Python thread runs beside it, as
   kafka-python's record decoding runs on the pipeline's poll thread: at Python's default GIL switch
   interval and at the pipeline's (ingest.consumer.GIL_SWITCH_INTERVAL_S);
3. with plug-ins, at DuckDB's default checkpoint threshold (16 MiB) and at the pipeline's
   (pipeline.checkpoint_threshold_mb), the final checkpoint included. A checkpoint's cost grows with the
   database, so the difference grows with --events.

Each configuration lands into a new database. Prints microseconds per event and ratios from the same run;
asserts nothing about time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest_rate import mixed_events  # noqa: E402

from customer_health.composition import pipeline_extensions  # noqa: E402
from customer_health.config import Settings  # noqa: E402
from customer_health.db import open_owner  # noqa: E402
from ingest.consumer import GIL_SWITCH_INTERVAL_S, gil_switch_interval  # noqa: E402
from ingest.landing import RawBatch  # noqa: E402
from ingest.plugins import PipelineExtensions  # noqa: E402
from ingest.service import build_lander  # noqa: E402

PYTHON_DEFAULT_SWITCH_INTERVAL_S = 0.005


@dataclass(frozen=True)
class Record:
    """What landing reads of a Kafka record."""

    offset: int
    key: bytes
    value: bytes
    timestamp: int


def batches(events: list[tuple[str, bytes, bytes]], size: int) -> Iterator[RawBatch]:
    """The events as the poll loop hands them over: one chunk per topic (partition 0) per batch."""
    offsets: Counter[str] = Counter()
    for start in range(0, len(events), size):
        by_type: dict[str, list[Record]] = {}
        for event_type, key, value in events[start:start + size]:
            by_type.setdefault(event_type, []).append(Record(offsets[event_type], key, value, 0))
            offsets[event_type] += 1
        batch = RawBatch()
        for event_type, records in by_type.items():
            batch.add_records(event_type, event_type, 0, records)
        yield batch


def land_all(events: list[tuple[str, bytes, bytes]], batch_events: int, tmp: Path, *, plugins: bool,
             checkpoint_mib: int | None = None) -> float:
    """Seconds to land every event (and checkpoint what is left in the log) into a new database; the batches
    are built before the clock starts (the pipeline builds them on its poll thread, not the landing one)."""
    prepared = list(batches(events, batch_events))
    settings = Settings(db_path=tmp / f"landing-{time.monotonic_ns()}.duckdb")
    if checkpoint_mib is not None:
        settings = settings.with_overrides(pipeline__checkpoint_threshold_mb=checkpoint_mib)
    con = open_owner(settings, threads=1)
    ext = pipeline_extensions(con, settings) if plugins else PipelineExtensions()
    lander = build_lander(con, settings, ext)
    try:
        started = time.perf_counter()
        for batch in prepared:
            result = lander.land(batch, "kafka")
            for callback in ext.on_landed:
                callback(result)
        con.execute("checkpoint")
        return time.perf_counter() - started
    finally:
        for callback in ext.on_stop:
            callback()
        con.close()


class PythonBusyThread:
    """A thread that only runs Python bytecode, holding the GIL whenever it can (as a busy poll loop does)."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)

    def _spin(self) -> None:
        turns = 0
        while not self._stop.is_set():
            turns += 1

    def __enter__(self) -> PythonBusyThread:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=600_000)
    parser.add_argument("--gil-events", type=int, default=100_000,
                        help="events landed beside the busy thread (slow at Python's default interval)")
    parser.add_argument("--batch-events", type=int, default=20_000)
    args = parser.parse_args()
    from expectations.runner import get_runner

    get_runner()  # import Great Expectations once, outside every timing
    events = mixed_events(args.events)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)

        def measure(label: str, some: list[tuple[str, bytes, bytes]] = events, **kwargs: object) -> float:
            us = land_all(some, args.batch_events, tmp, **kwargs) / len(some) * 1e6
            print(f"{label}: {us:,.1f} us/event ({1e6 / us:,.0f} events/s)")
            return us

        print(f"{len(events):,} simulated events in batches of {args.batch_events:,}, one DuckDB thread, no Kafka")
        configured = Settings().pipeline.checkpoint_threshold_mb
        alone = measure("landing path alone", plugins=False)
        with_plugins = measure(f"with plug-ins (checkpoint at {configured} MiB, the pipeline default)", plugins=True)
        print(f"plug-ins cost: {with_plugins / alone:.2f}x the landing path alone")
        first = events[:args.gil_events]
        first_alone = measure(f"landing path, first {len(first):,} events", first, plugins=False)
        for interval in (PYTHON_DEFAULT_SWITCH_INTERVAL_S, GIL_SWITCH_INTERVAL_S):
            with gil_switch_interval(interval), PythonBusyThread():
                busy = measure(f"the same, a busy Python thread beside it, GIL switch {interval * 1000:g} ms", first,
                               plugins=False)
            print(f"slowdown at GIL switch {interval * 1000:g} ms: {busy / first_alone:.2f}x the landing path alone")
        default_ckpt = measure("with plug-ins, checkpoint at 16 MiB (DuckDB's default)", plugins=True,
                               checkpoint_mib=16)
        print(f"landing speed at {configured} MiB against 16 MiB: {default_ckpt / with_plugins:.2f}x")


if __name__ == "__main__":
    main()
