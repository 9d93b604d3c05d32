"""Benchmark: the history grid alone (``rebuild_history`` of the whole window, what ``load`` runs after the
landing and a pipeline after a late event) on a copy of a loaded database, statement by statement.

    .venv/bin/python bench/history_grid.py --db loaded.duckdb [--rounds 3] [--threads N]

--db: a database ``customer-health load`` filled (e.g. from the files bench/backfill.py writes); it is
copied, never written. Each round derives the whole window again in one transaction, rolled back after, as
of 12 hours past the last stored point (the same points as the load derived). Prints, per round, the wall
and CPU seconds (every thread of this process) of each grid statement and of the whole rebuild, and a
digest of every stored history value (health_snapshots but snapshot_id, health_history_norms) and how many
snapshot ids are out of (point, customer) order: two code revisions that derive the same history print the same digest.

To compare with another revision, run this file with PYTHONPATH set to that revision's tree: the code under
test is the one imported (``customer_health``), this script only times it.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

try:
    import customer_health  # noqa: F401
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _statement_clock import StatementClock, summed  # noqa: E402  (bench/, this script's directory)

from customer_health import sqlfiles  # noqa: E402
from customer_health.config import load_settings  # noqa: E402
from customer_health.db import open_owner  # noqa: E402
from customer_health.health.history import rebuild_history  # noqa: E402

DIGEST = """
select count(*), bit_xor(hash(customer_id,
    snapshot_at, reason, health_score, segment, previous_segment, components, revenue_90d, cost_to_serve_90d,
    margin_90d, complaint_index_90d, support_minutes_90d, segment_reason)),
    (select bit_xor(hash(n)) from health_history_norms n),
    (select count(*) from (select snapshot_id, row_number() over (order by snapshot_at, customer_id) as expected,
        row_number() over (order by snapshot_id) as got from health_snapshots) where expected <> got)
from health_snapshots
"""


def one_round(con: Any, settings: Any, now: Any) -> tuple[dict[str, tuple[float, float]], str]:
    spent: dict[str, tuple[float, float]] = {}
    with StatementClock(summed(spent)):
        con.execute("begin")
        try:
            started, cpu = time.perf_counter(), time.process_time()
            rebuild_history(con, settings, None, now=now)
            spent["(rebuild_history, all)"] = (time.perf_counter() - started, time.process_time() - cpu)
            rows, snapshots, norms, misordered = con.execute(DIGEST).fetchone()
            digest = (f"{rows} rows, snapshots {snapshots & 0xFFFFFFFFFFFF:012x}, norms {norms & 0xFFFFFFFFFFFF:012x}, "
                      f"{misordered} snapshot ids out of (point, customer) order")
        finally:
            con.execute("rollback")
    return spent, digest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, required=True, help="a loaded database (copied, not written)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, help="DuckDB threads (default: DuckDB's, one per core)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="history-grid-") as tmp:
        db = Path(tmp) / "copy.duckdb"
        shutil.copyfile(args.db, db)
        db.chmod(0o600)
        settings = load_settings(None).with_overrides(db_path=str(db))
        con = open_owner(settings, threads=args.threads)
        try:
            last, customers = con.execute(
                "select (select max(snapshot_at) from health_snapshots),"
                " (select count(distinct customer_id) from customer_events)").fetchone() or (None, 0)
            now = last + timedelta(hours=12)
            print(f"customers: {customers:,}; points up to {last:%Y-%m-%d}; code: {Path(sqlfiles.SQL_ROOT).parent}")
            rounds = []
            for round_ in range(1, args.rounds + 1):
                spent, digest = one_round(con, settings, now)
                rounds.append(spent)
                print(f"round {round_}: {digest}")
                for name, (wall, cpu) in sorted(spent.items(), key=lambda item: -item[1][1]):
                    if cpu >= 0.05 or wall >= 0.05:
                        print(f"  {name}: wall {wall:.2f} s, CPU {cpu:.2f} s")
            print("medians:")
            for name in sorted(rounds[0], key=lambda n: -rounds[0][n][1]):
                wall = statistics.median(r[name][0] for r in rounds if name in r)
                cpu = statistics.median(r[name][1] for r in rounds if name in r)
                if cpu >= 0.05 or wall >= 0.05:
                    print(f"  {name}: wall {wall:.2f} s, CPU {cpu:.2f} s")
        finally:
            con.close()


if __name__ == "__main__":
    main()
