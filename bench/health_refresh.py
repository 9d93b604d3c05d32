"""Health refresh: one batch's incremental refresh next to a full recompute, at 100k customers with 1M
and with 10M events (issue 3's goals: incremental >= 20x faster at 10M, and its cost at 10M within
1.5x of its cost at 1M).

    .venv/bin/python bench/health_refresh.py [--customers 100000] [--events 1000000 10000000]
        [--batches 10] [--batch-size 5000] [--repeat 3] [--recompute-repeat 1]
        [--dir /tmp/customer-health-bench] [--reuse [--rebuild]]

1. Builds one database per event count synthetically with DuckDB SQL (seconds, not hours): customer
   profiles, then tickets, payments and visits over the 180 days before the evaluation, appended in
   time order and numbered into batches of --batch-size, as the pipeline lands them. Events go straight
   into the raw tables: landing (contract checks) is the ingest benchmark's business, not this one's.
2. Then the sizes take turns (so that other work on the machine weighs on both alike):
   - full recompute: the health recomputed from every stored event (rollups rebuilt, then everyone);
   - full refresh: what the pipeline runs when the UTC day rolls over (everyone, from the day rollup);
   - incremental: --batches new batches of --batch-size events (now, random customers), each appended
     to the raw tables and then refreshed with HealthRefresher.refresh_batch exactly as the pipeline's
     hook does (its statements and its commit), with the time of each statement.
   Each is timed in wall and CPU seconds. Checkpoints are forced before each and timed apart after it.
3. The norms drift check the pipeline runs at most every health.norms_check_seconds (health_state only).
4. What a history point costs (customer_health.health.history): the last 3 points derived again.

Prints the figures side by side and whether the goals hold (exit code 1 if not).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from _statement_clock import StatementClock  # noqa: E402  (bench/, this script's directory)

from customer_health import sqlfiles  # noqa: E402
from customer_health.config import Settings  # noqa: E402
from customer_health.db import open_owner  # noqa: E402
from customer_health.health.history import rebuild_history  # noqa: E402
from customer_health.health.refresh import HealthRefresher  # noqa: E402

AS_OF = datetime(2026, 11, 20, 12, 0)  # the evaluation instant (naive UTC); the data ends here
RUN = int(time.time())  # event ids of this run's new batches stay unique in a reused database
HISTORY_DAYS = 180
SPLIT = {"visits": 0.55, "payments": 0.25, "tickets": 0.20}

# Benchmark fixtures (not product logic). $-parameters are bound by DuckDB. Rows are appended in time
# order and numbered into batches of $batch_size, like a live ingest; customers are skewed (pow).
EVENTS = """
    create or replace temp table bench_events as
    select row_number() over (order by occurred_at) - 1 as seq, *
    from (
        select i, random() as r, hash(i) as h,
            'c' || floor(pow(random(), 2) * $customers)::bigint as customer_id,
            $as_of - to_microseconds((random() * $days * 86400e6)::bigint) as occurred_at
        from range($n) t(i)
    )
"""
GENERATE = {
    "customer_events": """
        insert into customer_events by name
        select 'p-' || i as event_id, 'c' || i as customer_id,
            $as_of - interval ($days + 30) day - interval (i % 600) day as occurred_at,
            'Customer ' || i as name, if(i % 5 = 0, 'b2b', 'b2c') as kind,
            ['basic', 'standard', 'premium', 'enterprise'][1 + (hash(i) % 4)::bigint] as plan,
            if(i % 5 <> 0 and i % 3 = 0, 'h' || (i // 6), null) as household_id,
            $as_of - interval ($days + 30) day - interval (i % 600) day as signed_up_at,
            if(i % 20 = 7, $as_of - interval (i % 60) day, null) as cancelled_at,
            null::json as extra, 0 as batch_id
        from range($customers) t(i)""",
    "customers": """
        insert into customers by name
        select customer_id, name, kind, plan, household_id, signed_up_at, cancelled_at,
            occurred_at as profile_updated_at
        from customer_events""",
    "tickets": """
        insert into tickets by name
        select 't-' || $tag || '-' || i as event_id, customer_id, occurred_at,
            'tk-' || $tag || '-' || (i // 3) as ticket_id,
            ['opened', 'updated', 'resolved'][1 + (i % 3)::bigint] as action,
            ['how_to', 'how_to', 'how_to', 'bug', 'billing', 'complaint', 'compensation_request', 'other',
             'legal_threat', 'cancellation'][1 + (h % 10)::bigint] as category,
            ['phone', 'email', 'chat', 'social'][1 + (i % 4)::bigint] as channel,
            round(r * 40, 1) as handling_minutes,
            h % 25 = 0 as escalated,
            if(h % 10 = 6, round(r * 150, 2), null)::decimal(18, 2) as compensation_requested,
            if(h % 30 = 6, round(r * 60, 2), null)::decimal(18, 2) as compensation_granted,
            round(r * 2 - 1, 2) as sentiment, null::json as extra,
            $first_batch + seq // $batch_size as batch_id
        from bench_events""",
    "payments": """
        insert into payments by name
        select 'pay-' || $tag || '-' || i as event_id, customer_id, occurred_at,
            'inv-' || $tag || '-' || (i // 2) as invoice_id,
            if(h % 20 < 18, 'charge', ['refund', 'credit'][1 + (h % 2)::bigint]) as kind,
            case when h % 20 = 0 then 'failed' when h % 20 = 1 then 'pending' else 'succeeded' end as status,
            round(5 + r * 120, 2)::decimal(18, 4) as amount,
            ['EUR', 'EUR', 'EUR', 'EUR', 'EUR', 'EUR', 'EUR', 'GBP', 'USD', 'SEK'][1 + (h % 10)::bigint] as currency,
            if(h % 3 = 0, occurred_at + interval 14 day, null) as due_at,
            null::json as extra,
            $first_batch + seq // $batch_size as batch_id
        from bench_events""",
    "visits": """
        insert into visits by name
        select 'v-' || $tag || '-' || i as event_id, customer_id, occurred_at,
            's-' || $tag || '-' || i as session_id,
            ['web', 'app', 'store', 'phone'][1 + (i % 4)::bigint] as channel,
            round(r * 1800) as duration_seconds, (1 + r * 20)::integer as pages, null::json as extra,
            $first_batch + seq // $batch_size as batch_id
        from bench_events""",
}


def append_events(con: duckdb.DuckDBPyConnection, customers: int, n: int, days: float, as_of: datetime,
                  first_batch: int, batch_size: int, tag: str) -> None:
    """Append n events, split by type, each type in time order, numbered into batches from first_batch."""
    for table, share in SPLIT.items():
        con.execute(EVENTS, {"n": int(n * share), "customers": customers, "as_of": as_of, "days": days})
        con.execute(GENERATE[table], {"tag": f"{tag}{table[0]}", "first_batch": first_batch,
                                      "batch_size": max(1, int(batch_size * share))})


def timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def in_transaction(con: duckdb.DuckDBPyConnection, fn: Any) -> Any:
    con.execute("begin")
    try:
        result = fn()
        con.execute("commit")
        return result
    except BaseException:
        con.execute("rollback")
        raise


@dataclass
class Size:
    """One database of the comparison and what was measured on it."""

    events: int
    settings: Settings
    con: duckdb.DuckDBPyConnection | None = None
    refresher: HealthRefresher | None = None
    next_batch: int = 0
    clock: datetime = AS_OF  # this run's refreshes start here (after those of earlier runs, same UTC day)
    facts: dict[str, Any] = field(default_factory=dict)
    full: list[tuple[float, float]] = field(default_factory=list)            # (wall s, CPU s)
    recompute: list[tuple[float, float]] = field(default_factory=list)       # rollups rebuilt + full
    incremental: list[tuple[float, float]] = field(default_factory=list)
    commit: list[float] = field(default_factory=list)
    checkpoint: list[float] = field(default_factory=list)   # after each incremental batch
    full_checkpoint: list[float] = field(default_factory=list)
    touched: list[int] = field(default_factory=list)
    statement_times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))  # wall s
    timer: StatementClock = field(default_factory=StatementClock)  # counting while its record is set


def build(args: argparse.Namespace, events: int) -> Size:
    """Create (or reuse) the database of one size, with its rollups rebuilt and health fully refreshed."""
    path = args.dir / f"health_{args.customers}_{events}.duckdb"
    base = Settings(db_path=path)
    # Incremental refreshes stay incremental during the measurement (the drift check is timed apart).
    # The history's points are timed apart (history_round).
    health = base.health.with_overrides(norms_check_seconds=1e12, norms_max_age_minutes=1e9)
    size = Size(events, base.with_overrides(health=health))
    if not (args.reuse and path.exists()):
        for leftover in (path, path.with_name(path.name + ".wal")):
            leftover.unlink(missing_ok=True)
        con = open_owner(size.settings)
        started = time.perf_counter()
        con.execute(GENERATE["customer_events"], {"customers": args.customers, "as_of": AS_OF,
                                                   "days": HISTORY_DAYS})
        con.execute(GENERATE["customers"])
        append_events(con, args.customers, events, HISTORY_DAYS, AS_OF - timedelta(hours=1), 1, args.batch_size,
                      "h")
        size.facts["build_s"] = time.perf_counter() - started
        refresher = HealthRefresher(size.settings.health)
        size.facts["rebuild_s"] = timed(lambda: in_transaction(con, lambda: refresher.rebuild_rollups(con)))
        con.execute("checkpoint")
        con.close()
    elif args.rebuild:
        con = open_owner(size.settings)
        refresher = HealthRefresher(size.settings.health)
        size.facts["rebuild_s"] = timed(lambda: in_transaction(con, lambda: refresher.rebuild_rollups(con)))
        con.execute("checkpoint")
        con.close()
    size.con = open_owner(size.settings)
    # Checkpoints are timed on their own (explicit, after each refresh) rather than landing at random in
    # whichever commit crosses the WAL threshold.
    size.con.execute("set checkpoint_threshold = '64GB'")
    size.refresher = HealthRefresher(size.settings.health)
    con = size.con
    size.facts["stored_events"] = sum(con.execute(f"select count(*) from {t}").fetchone()[0] for t in SPLIT)
    size.facts["rollup_rows"] = con.execute("select count(*) from customer_day").fetchone()[0]
    size.next_batch = con.execute("select max(batch_id) from visits").fetchone()[0] + 1
    last = con.execute("select max(as_of) from health_refreshes").fetchone()[0]
    size.clock = max(AS_OF, last or AS_OF) + timedelta(seconds=1)
    return size


def measure(fn: Any) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def full_round(size: Size, now: datetime) -> None:
    con, refresher = size.con, size.refresher
    con.execute("checkpoint")
    wall, cpu, _ = measure(lambda: in_transaction(con, lambda: refresher.full_refresh(con, now)))
    size.full.append((wall, cpu))
    size.full_checkpoint.append(timed(lambda: con.execute("checkpoint")))


def recompute_round(size: Size, now: datetime) -> None:
    """The health recomputed from every stored event: rollups rebuilt, then everyone refreshed."""
    con, refresher = size.con, size.refresher
    con.execute("checkpoint")

    def recompute() -> None:
        refresher.rebuild_rollups(con)
        refresher.full_refresh(con, now)

    wall, cpu, _ = measure(lambda: in_transaction(con, recompute))
    size.recompute.append((wall, cpu))
    con.execute("checkpoint")


def history_round(size: Size, now: datetime, points: int = 3) -> None:
    """What a history point costs: the last ``points`` points of the grid derived again (rolled back)."""
    con = size.con
    con.execute("checkpoint")
    con.execute("begin")
    try:
        since = (now - timedelta(days=points - 1)).date()
        wall, cpu, result = measure(lambda: rebuild_history(con, size.settings, since, now=now))
    finally:
        con.execute("rollback")
    size.facts |= {"history_wall_s": wall, "history_cpu_s": cpu, "history_points": result.points}


def incremental_round(args: argparse.Namespace, size: Size, b: int, counted: bool) -> None:
    """Append one batch of events (now, random customers) and refresh it as the pipeline's hook does."""
    con, refresher = size.con, size.refresher
    now = size.clock + timedelta(minutes=1 + b)
    batch = size.next_batch + b
    append_events(con, args.customers, args.batch_size, 10 / 1440, now, batch, args.batch_size * 10,
                  f"b{RUN}-{b}-")
    con.execute("checkpoint")   # the batch's events are stored; what follows is the refresh alone
    size.timer.record = (lambda name, wall, _cpu: size.statement_times[name].append(wall)) if counted else None

    def refresh() -> Any:
        con.execute("begin")
        try:
            result = refresher.refresh_batch(con, batch, now)
        except BaseException:
            con.execute("rollback")
            raise
        committing = time.perf_counter()
        con.execute("commit")
        size.commit.append(time.perf_counter() - committing) if counted else None
        return result

    wall, cpu, result = measure(refresh)
    size.timer.record = None
    assert result.kind == "incremental", result
    checkpoint = timed(lambda: con.execute("checkpoint"))
    if counted:
        size.incremental.append((wall, cpu))
        size.touched.append(result.customers)
        size.checkpoint.append(checkpoint)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--batches", type=int, default=10, help="incremental batches timed per size")
    parser.add_argument("--batch-size", type=int, default=5000, help="events per batch (pipeline default)")
    parser.add_argument("--repeat", type=int, default=3, help="full refreshes timed per size")
    parser.add_argument("--recompute-repeat", type=int, default=1, help="full recomputes from the events per size")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/customer-health-bench"))
    parser.add_argument("--reuse", action="store_true", help="reuse databases built by an earlier run")
    parser.add_argument("--rebuild", action="store_true", help="with --reuse: rebuild the rollups anyway")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)

    sizes = []
    for events in args.events:
        print(f"building {args.customers:,} customers, {events:,} events ...", flush=True)
        sizes.append(build(args, events))
    # The sizes take turns, so that both see the same machine (other work on it affects both alike).
    with contextlib.ExitStack() as stack:
        for size in sizes:
            stack.enter_context(size.timer)
        for i in range(args.recompute_repeat):
            for size in sizes:
                recompute_round(size, size.clock + timedelta(seconds=10 + i))
        for i in range(args.repeat):
            for size in sizes:
                full_round(size, size.clock + timedelta(seconds=20 + i))
        for b in range(args.batches + 1):   # the first round warms up and is not counted
            for size in sizes:
                incremental_round(args, size, b, counted=b > 0)
    for size in sizes:
        history_round(size, size.clock + timedelta(seconds=30))
        checks = [timed(lambda size=size: sqlfiles.Statements(size.con).one("health/current_norms", {"now": AS_OF}))
                  for _ in range(5)]
        size.facts["drift_check_s"] = statistics.median(checks)
        size.facts["health_rows"] = size.con.execute("select count(*) from health_state").fetchone()[0]
        size.con.close()

    for size in sizes:
        f = size.facts
        inc_wall = statistics.median(w for w, _ in size.incremental)
        inc_cpu = statistics.median(c for _, c in size.incremental)
        print(f"\n{args.customers:,} customers, {size.events:,} events")
        built = f"built in {f['build_s']:.1f} s; " if "build_s" in f else ""
        print(f"  {built}{f['stored_events']:,} events stored, {f['rollup_rows']:,} customer-day rows, "
              f"{f['health_rows']:,} health rows")
        print(f"  full recompute from the stored events (rollups rebuilt, then everyone): median "
              f"{statistics.median(w for w, _ in size.recompute):.2f} s wall, "
              f"{statistics.median(c for _, c in size.recompute):.2f} s CPU")
        print(f"  full refresh from the rollup: median {statistics.median(w for w, _ in size.full):.2f} s wall, "
              f"{statistics.median(c for _, c in size.full):.2f} s CPU ({args.repeat} runs); then a checkpoint "
              f"{statistics.median(size.full_checkpoint):.2f} s")
        print(f"  incremental refresh of one {args.batch_size:,}-event batch "
              f"({statistics.median(size.touched):,.0f} customers touched): median {1000 * inc_wall:.0f} ms wall "
              f"(worst {1000 * max(w for w, _ in size.incremental):.0f}), {1000 * inc_cpu:.0f} ms CPU; "
              f"of which commit {1000 * statistics.median(size.commit):.0f} ms; then a checkpoint "
              f"{1000 * statistics.median(size.checkpoint):.0f} ms")
        print("  incremental, per statement (median ms): " + ", ".join(
            f"{name.removeprefix('health/')} {1000 * statistics.median(t):.0f}" for name, t in sorted(
                size.statement_times.items(), key=lambda kv: -statistics.median(kv[1]))))
        print(f"  norms drift check (at most every health.norms_check_seconds): {1000 * f['drift_check_s']:.0f} ms")
        print(f"  history: {f['history_points']} points derived in {f['history_wall_s']:.2f} s wall "
              f"({f['history_cpu_s']:.2f} s CPU), {f['history_wall_s'] / max(f['history_points'], 1):.2f} s a point")

    print("\nside by side: median wall seconds (CPU seconds); speed-up of the incremental refresh")
    print(f"{'events':>12s} {'incremental':>16s} {'full refresh':>16s} {'full recompute':>16s} "
          f"{'vs refresh':>11s} {'vs recompute':>13s}")
    rows = []
    for size in sizes:
        def med(pairs: list[tuple[float, float]]) -> tuple[float, float]:
            return statistics.median(w for w, _ in pairs), statistics.median(c for _, c in pairs)

        inc, full, recompute = med(size.incremental), med(size.full), med(size.recompute)
        rows.append((size.events, inc, full, recompute))
        print(f"{size.events:12,d} {inc[0]:7.3f} ({inc[1]:6.3f}) {full[0]:7.3f} ({full[1]:6.3f}) "
              f"{recompute[0]:7.2f} ({recompute[1]:6.2f}) {full[0] / inc[0]:10.1f}x {recompute[0] / inc[0]:12.1f}x")
    ok = True
    if len(rows) >= 2:
        (small_n, small_inc, _, _), (large_n, large_inc, large_full, large_recompute) = rows[0], rows[-1]
        vs_recompute = large_recompute[0] / large_inc[0]
        vs_refresh = large_full[0] / large_inc[0]
        growth = large_inc[0] / small_inc[0]
        print(f"goal 1: incremental >= 20x faster than a full recompute at {large_n:,} events: {vs_recompute:.1f}x "
              f"-> {'ok' if vs_recompute >= 20 else 'MISSED'} (and {vs_refresh:.1f}x faster than the pipeline's "
              f"full refresh from its day rollup)")
        print(f"goal 2: incremental at {large_n:,} events within 1.5x of at {small_n:,}: {growth:.2f}x wall, "
              f"{large_inc[1] / small_inc[1]:.2f}x CPU -> {'ok' if growth <= 1.5 else 'MISSED'}")
        ok = vs_recompute >= 20 and growth <= 1.5
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
