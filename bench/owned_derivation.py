"""Benchmark: what ``ducklake.derive_owned_only`` saves a lake pipeline per live batch, in-process, side by side.

    .venv/bin/python bench/owned_derivation.py [--customers 5000] [--live-events 60000] [--batch-events 6000]
        [--partitions 6] [--owned 2]

A lake pipeline lands every pipeline's events into its working store, its own batches and, from the lake, the
other pipelines' commits as batches of their own; with ``derive_owned_only`` it derives per batch only the
customers whose home partition it owns (here partitions 0 to --owned - 1, of --partitions / --owned pipelines
with --owned each: partition 0 included, the leader). This lands the same simulated history (untimed), then the
same live batches (each round of --batch-events as one batch per pipeline), into two working stores that differ
only by the setting (the customers' partitions recorded as a lake pipeline records them), batch by
batch alternately, first one then the other, so that both see the same machine. Prints the CPU seconds of each
(the process's, DuckDB on one thread), per batch and in total, and their ratio; asserts nothing about time.
The end-to-end run (bench/lake_scale.py's lake-n-owned) measures the lake's commit rate, which backfill-sized
batches and the machine's noise dominate on this machine.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _statement_clock import StatementClock  # noqa: E402  (bench/, this script's directory)

from customer_health.composition import pipeline_extensions  # noqa: E402
from customer_health.config import Settings  # noqa: E402
from customer_health.db import open_working_store  # noqa: E402
from customer_health.health.refresh import HealthRefresher  # noqa: E402
from customer_health.simulate import SimulationSettings, generate_history, generate_live  # noqa: E402
from ingest.landing import Lander, RawBatch  # noqa: E402
from ingest.service import build_lander  # noqa: E402

TOPICS = ("customers", "tickets", "payments", "visits")
Event = tuple[str, bytes, bytes]


def raw_batches(events: list[Event], size: int, partitions: int, owned: int,
                offsets: Counter[tuple[str, int]]) -> list[tuple[int, RawBatch]]:
    """The events on the partition of their key (crc32: the rule only needs each customer on one partition), in
    chunks of ``size``, each chunk as the lake commits of the pipelines owning ``owned`` partitions each (the
    first this one's, then the others', which a lake pipeline lands from the lake as batches of their own)."""
    out = []
    for start in range(0, len(events), size):
        by_pipeline: dict[int, RawBatch] = {}
        for topic, key, value in events[start:start + size]:
            partition = zlib.crc32(key) % partitions
            raw = by_pipeline.setdefault(partition // owned, RawBatch())
            raw.add_kafka(topic, topic, partition, offsets[(topic, partition)], key, value, 0, None)
            offsets[(topic, partition)] += 1
        out += [(k, by_pipeline[k]) for k in sorted(by_pipeline)]
    return out


def working_store(owned_only: bool, owned: list[int], customers: set[bytes], partitions: int) -> Lander:
    """A lake pipeline's in-memory working store with the product's plug-ins, owning ``owned``."""
    settings = Settings(store="ducklake").with_overrides(
        ducklake__catalog="postgres:dbname=bench host=127.0.0.1", clock__source="events")
    con = open_working_store(settings, threads=1)
    ext = pipeline_extensions(con, settings)
    for hook in ext.after_land:  # what the setting's on_lake hook does once a lake pipeline attaches its lake
        refresher = getattr(hook, "__self__", None)
        if isinstance(refresher, HealthRefresher):
            refresher.owned_only = owned_only
    con.executemany("insert into pipeline_partitions values (?, ?)", [(t, p) for t in TOPICS for p in owned])
    con.executemany("insert into customer_partitions values (?, ?, ?)",
                    [(k.decode(), t, zlib.crc32(k) % partitions) for k in sorted(customers) for t in TOPICS])
    return build_lander(con, settings, ext)


def time_hooks(lander: Lander, totals: Counter[str]) -> None:
    """Count each plug-in hook's CPU seconds into ``totals`` (by its qualified name); the rest of a batch is the
    landing path's."""
    def timed(hook: Callable[..., Any]) -> Callable[..., Any]:
        owner = getattr(hook, "__self__", hook)
        name = f"{type(owner).__module__}.{type(owner).__name__}"

        def run(*args: Any) -> Any:
            before = time.process_time()
            try:
                return hook(*args)
            finally:
                totals[name] += time.process_time() - before
        return run
    lander.before_land[:] = [timed(h) for h in lander.before_land]
    lander.after_land[:] = [timed(h) for h in lander.after_land]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--live-events", type=int, default=60_000)
    parser.add_argument("--batch-events", type=int, default=6000,
                        help="live events per round: one lake commit of each pipeline")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--owned", type=int, default=2,
                        help="partitions each pipeline owns (this one 0 to --owned - 1; --partitions / --owned "
                             "pipelines)")
    args = parser.parse_args()
    if not 1 <= args.owned <= args.partitions:
        parser.error("--owned must be between 1 and --partitions")
    start = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
    sim = SimulationSettings(customers=args.customers, seed=7, history_days=90, rate_per_second=1000.0)
    history = [(e.topic, e.key.encode(), e.value) for e in generate_history(sim, start)]
    live = [(e.topic, e.key.encode(), e.value)
            for _, e in itertools.islice(generate_live(sim, start), args.live_events)]
    keys = {k for _, k, _ in history + live if k}
    owned = list(range(args.owned))
    offsets: Counter[tuple[str, int]] = Counter()
    history_batches = raw_batches(history, 50_000, args.partitions, args.partitions, offsets)
    live_batches = raw_batches(live, args.batch_events, args.partitions, args.owned, offsets)
    cpu: dict[bool, list[float]] = {False: [], True: []}
    others: dict[bool, list[float]] = {False: [], True: []}  # of the other pipelines' batches
    stores = {flag: working_store(flag, owned, keys, args.partitions) for flag in (False, True)}
    try:
        for _, raw in history_batches:
            for lander in stores.values():
                lander.land(raw, "kafka")
        hooks: dict[bool, Counter[str]] = {flag: Counter() for flag in stores}
        for flag, lander in stores.items():
            time_hooks(lander, hooks[flag])
        statements: dict[bool, Counter[str]] = {flag: Counter() for flag in stores}
        with StatementClock() as timer:
            for i, (pipeline, raw) in enumerate(live_batches):
                for flag in (False, True) if i % 2 == 0 else (True, False):
                    timer.record = lambda name, _wall, cpu, into=statements[flag]: into.update({name: cpu})
                    before = time.process_time()
                    stores[flag].land(raw, "kafka")
                    cpu[flag].append(time.process_time() - before)
                    if pipeline != 0:
                        others[flag].append(cpu[flag][-1])
        waiting = stores[True].con.execute("select count(*) from health_pending").fetchone()
    finally:
        for lander in stores.values():
            lander.con.close()
    off, on = cpu[False], cpu[True]
    print(f"{args.customers:,} customers, {len(history):,} history events (untimed), {len(live):,} live events in "
          f"rounds of {args.batch_events:,}, each one lake commit of each of {args.partitions // args.owned} "
          f"pipelines owning {args.owned} of {args.partitions} partitions ({len(live_batches)} batches); "
          f"{waiting[0] if waiting else 0:,} customers pending at the end")
    for flag, label in ((False, "derive_owned_only off"), (True, "derive_owned_only on ")):
        xs = cpu[flag]
        own = [x for x, (k, _) in zip(xs, live_batches, strict=True) if k == 0]
        print(f"{label}: CPU per live batch median {statistics.median(xs) * 1e3:,.1f} ms (its own "
              f"{statistics.median(own) * 1e3:,.1f} ms, the others' {statistics.median(others[flag]) * 1e3:,.1f} ms), "
              f"total {sum(xs):,.2f} s ({sum(xs) / len(live) * 1e6:,.0f} us per event)")
    for name in sorted(hooks[False], key=lambda n: -hooks[False][n]):
        print(f"  hook {name}: off {hooks[False][name]:,.2f} s, on {hooks[True][name]:,.2f} s "
              f"({hooks[True][name] / max(hooks[False][name], 1e-9):.2f}x)")
    for name, seconds in statements[False].most_common(12):
        print(f"    statement {name}: off {seconds:,.2f} s, on {statements[True][name]:,.2f} s")
    path_off, path_on = sum(off) - sum(hooks[False].values()), sum(on) - sum(hooks[True].values())
    print(f"  the landing path (contract, raw tables): off {path_off:,.2f} s, on {path_on:,.2f} s")
    print(f"ratio on / off: total CPU {sum(on) / sum(off):.2f}x, median batch "
          f"{statistics.median(on) / statistics.median(off):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
