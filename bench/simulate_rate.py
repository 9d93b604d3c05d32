"""Benchmark: how many events per second the simulator generates (target: >= 50,000).

Generates a history backfill (profiles + ``--days`` of activity for ``--customers``) and ``--live``
events of the live stream, each fully encoded to bytes, ``--repeat`` times; reports the best run's
events per wall second and per CPU second (CPU time is less disturbed by other work on the machine).
Exits 1 when the best history rate is under ``--target``. Prints figures only.

Run: ``.venv/bin/python bench/simulate_rate.py [--customers N] [--days D] [--live N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

try:
    from customer_health.simulate import SimulationSettings, generate_history, generate_live
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from customer_health.simulate import SimulationSettings, generate_history, generate_live


def measure(make: Callable[[], Iterable[object]], repeat: int) -> tuple[int, float, float]:
    """(events, best events per wall second, best events per CPU second) over ``repeat`` runs."""
    best_wall = best_cpu = 0.0
    count = 0
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        count = sum(1 for _ in make())
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        best_wall, best_cpu = max(best_wall, count / wall), max(best_cpu, count / max(cpu, 1e-9))
    return count, best_wall, best_cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--live", type=int, default=100_000, help="live events to generate")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--target", type=float, default=50_000.0, help="events/s the history must reach")
    args = parser.parse_args()

    settings = SimulationSettings(customers=args.customers, history_days=args.days)
    moment = datetime(2026, 11, 20, 12, tzinfo=UTC)
    n, wall, cpu = measure(lambda: generate_history(settings, moment), args.repeat)
    print(f"history: {n:,} events ({args.customers:,} customers, {args.days} days): "
          f"{wall:,.0f} events/s wall, {cpu:,.0f} events/s CPU")

    def live() -> Iterable[object]:
        return islice(generate_live(settings, moment), args.live)

    n_live, live_wall, live_cpu = measure(live, args.repeat)
    print(f"live:    {n_live:,} events: {live_wall:,.0f} events/s wall, {live_cpu:,.0f} events/s CPU")
    ok = wall >= args.target
    print(f"generation rate: {wall:,.0f} events/s (target {args.target:,.0f}): {'ok' if ok else 'TOO SLOW'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
