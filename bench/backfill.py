"""Benchmark: a backfill (`customer-health load` of simulated JSONL files, health and history included)
against DuckDB's own JSON reader on the same files, side by side in one run.

    .venv/bin/python bench/backfill.py [--customers 10000] [--history-days 150] [--dir DIR] [--phases]

Writes the simulated history of --customers over --history-days (about 115 events per customer at 150
days) as one JSONL file per event type, then times:
- read_json: a fresh DuckDB file, `create table <type> as select * from read_json(<file>, sample_size=-1)`
  for each file (DuckDB's floor: parsing and storing, no contract, no key, no model);
- load: `customer-health load <files>` as a process of its own on a fresh database (contract, dead letters,
  duplicates by event_id, quality quarantine, then rollups, churn scores, health and history once).
Prints both and their ratio (goal: load within 6x of read_json). --phases also lands the files again in
this process on another fresh database and prints where the time goes (per statement, summed over batches).
Prints figures only.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

try:
    import customer_health  # noqa: F401
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from customer_health.simulate import SimulationSettings, generate_history, write_jsonl  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def write_files(directory: Path, customers: int, history_days: int, end: datetime) -> tuple[list[Path], int]:
    sim = SimulationSettings(customers=customers, history_days=history_days)
    events = 0

    def counted() -> Any:
        nonlocal events
        for event in generate_history(sim, end):
            events += 1
            yield event

    paths = write_jsonl(counted(), directory)
    return sorted(paths.values()), events


def time_read_json(files: list[Path], db: Path) -> tuple[float, float]:
    """Wall and CPU seconds (every thread of this process) of DuckDB reading the files into tables."""
    with duckdb.connect(str(db)) as con:
        started, cpu = time.perf_counter(), time.process_time()
        for path in files:
            table = path.name.split(".")[0]
            con.execute(f"create table {table} as select * from read_json(?, sample_size=-1)", [str(path)])
        con.execute("checkpoint")
        return time.perf_counter() - started, time.process_time() - cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_load(files: list[Path], db: Path) -> tuple[float, float, dict[str, Any]]:
    """Wall and CPU seconds of `customer-health load` (a process of its own, start-up included), its totals."""
    started, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(
        [sys.executable, "-m", "customer_health.cli", "load", *map(str, files), "--db", str(db), "--json"],
        capture_output=True, text=True, cwd=REPO,
    )
    elapsed, cpu = time.perf_counter() - started, _children_cpu() - cpu
    if done.returncode != 0:
        raise SystemExit(f"load failed ({done.returncode}): {done.stderr.strip().splitlines()[-1:]}")
    return elapsed, cpu, json.loads(done.stdout)


def phases(files: list[Path], db: Path) -> tuple[float, dict[str, float], Counter[str]]:
    """Land the files in this process, summing the time of every statement by name."""
    from _statement_clock import StatementClock

    from customer_health.composition import finish_load, load_lander
    from customer_health.config import load_settings
    from customer_health.db import open_owner
    from ingest.files import load_files

    spent: dict[str, float] = {}
    runs: Counter[str] = Counter()

    def add(name: str, wall: float, _cpu: float) -> None:
        spent[name] = spent.get(name, 0.0) + wall
        runs[name] += 1

    with StatementClock(add):
        settings = load_settings(None).with_overrides(db_path=str(db))
        started = time.perf_counter()
        con = open_owner(settings)
        try:
            lander = load_lander(con, settings)
            land_started = time.perf_counter()
            load_files(lander, files, chunk_bytes=settings.pipeline.load_chunk_mb * 1024 * 1024)
            spent["(landing, all)"] = time.perf_counter() - land_started
            finish_started = time.perf_counter()
            finish_load(con, settings)
            spent["(finish_backfill, all)"] = time.perf_counter() - finish_started
        finally:
            con.close()
        return time.perf_counter() - started, spent, runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--history-days", type=int, default=150)
    parser.add_argument("--dir", type=Path, help="scratch directory (default: a temporary one)")
    parser.add_argument("--phases", action="store_true", help="also print the time per statement of a load")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="backfill-", dir=args.dir) as tmp:
        root = Path(tmp)
        end = datetime.now(UTC).replace(microsecond=0)
        files, events = write_files(root / "events", args.customers, args.history_days, end)
        size_mb = sum(p.stat().st_size for p in files) / 1e6
        read_json_s, read_json_cpu = time_read_json(files, root / "read_json.duckdb")
        load_s, load_cpu, totals = time_load(files, root / "load.duckdb")
        print(f"events: {events:,}")
        print(f"files: {len(files)} ({size_mb:,.0f} MB of JSONL)")
        print(f"read_json_s: {read_json_s:.2f} (CPU {read_json_cpu:.2f} s)")
        print(f"load_s: {load_s:.2f} (CPU {load_cpu:.2f} s)")
        print(f"load_vs_read_json: {load_s / read_json_s:.1f}x (goal: within 6x)")
        print(f"load_vs_read_json_cpu: {load_cpu / max(read_json_cpu, 1e-9):.1f}x")
        print(f"load_events_per_s: {events / load_s:,.0f}")
        print(f"landed: {totals['landed']:,} of {totals['rows']:,} rows "
              f"({totals['duplicates']:,} duplicates, {totals['dead_lettered']:,} dead-lettered, "
              f"{totals['quarantined']:,} quarantined)")
        if args.phases:
            total, spent, runs = phases(files, root / "phases.duckdb")
            print(f"phases_total_s: {total:.2f} (in process, without start-up)")
            for name, seconds in sorted(spent.items(), key=lambda item: -item[1])[:16]:
                print(f"  {seconds:6.2f} s  {runs[name] or 1:3d}x  {name}")


if __name__ == "__main__":
    main()
