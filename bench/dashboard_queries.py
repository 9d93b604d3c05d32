"""Dashboard page queries at 100k customers / 10M events, each next to a plain read of the health table.

    .venv/bin/python bench/dashboard_queries.py [--customers 100000] [--events 10000000] [--db PATH]
        [--reuse] [--history-days 90] [--repeat 5] [--quack]

1. Builds the database synthetically with DuckDB SQL (minutes, not hours): customer profiles and
   tickets/payments/visits spread over the last 180 days and stored in time order (as the pipeline lands
   them), heavy users skewed, hourly ingest batches, dead letters and consumer lag. Events go straight
   into the raw tables (the Lander's per-message contract checks are the ingest benchmark's business).
2. Builds the health tables with the health model itself: its rollups rebuilt from the raw events and one
   full refresh at now. A long-running pipeline's history (a daily snapshot per customer, segment changes)
   for the --history-days before is derived from those rows with SQL: a full refresh per past day would
   take hours at this size. Then the quality table suites and the alert evaluation, once, as the pipeline
   does.
3. Times every dashboard query function (dashboard.queries, the exact calls the pages make) through a
   Statements on the file, and with --quack through a Quack server (the pipeline's path), and prints each
   query's median and worst time next to `select * from customer_health` read into a DataFrame.

The issue's bar: each page query well under a second at this size on this machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from customer_health.config import Settings  # noqa: E402
from customer_health.db import open_owner, reader, serve  # noqa: E402
from customer_health.sqlfiles import Statements  # noqa: E402
from dashboard import queries  # noqa: E402
from ingest.broker import free_port  # noqa: E402

# Data generation (benchmark fixtures, not product logic). $-parameters are bound by DuckDB.
GENERATE = {
    "customer_events": """
        insert into customer_events by name
        select 'p-' || i as event_id, 'c' || i as customer_id,
            $as_of - interval (180 + i % 400) day as occurred_at,
            'Customer ' || i as name,
            if(i % 5 = 0, 'b2b', 'b2c') as kind,
            ['basic', 'standard', 'premium', 'enterprise'][1 + (hash(i) % 4)::bigint] as plan,
            if(i % 5 <> 0 and i % 3 = 0, 'h' || (i // 6), null) as household_id,
            $as_of - interval (200 + i % 900) day as signed_up_at,
            if(i % 20 = 7, $as_of - interval (i % 60) day, null) as cancelled_at,
            null::json as extra, 1 as batch_id
        from range($customers) t(i)""",
    "customers": """
        insert into customers by name
        select customer_id, name, kind, plan, household_id, signed_up_at, cancelled_at,
            occurred_at as profile_updated_at
        from customer_events""",
    # Skewed customers: a few heavy users (pow(random, 3)); times uniform over the last 180 days.
    "tickets": """
        insert into tickets by name
        select 't-' || i as event_id, customer_id, occurred_at,
            'tk-' || (i // 2) as ticket_id,
            ['opened', 'updated', 'resolved'][1 + i % 3] as action,
            ['how_to', 'how_to', 'bug', 'billing', 'complaint', 'compensation_request', 'other',
             'legal_threat'][1 + (hash(i) % 8)::bigint] as category,
            ['phone', 'email', 'chat'][1 + i % 3] as channel,
            round(r * 40, 1) as handling_minutes,
            r < 0.05 as escalated,
            if(hash(i) % 8 = 5, round(r * 100, 2), null) as compensation_requested,
            if(hash(i) % 16 = 5, round(r * 50, 2), null) as compensation_granted,
            round(r * 2 - 1, 2) as sentiment,
            null::json as extra,
            1 + (epoch($as_of)::bigint - epoch(occurred_at)::bigint) // 3600 as batch_id
        from (
            select i, random() as r, 'c' || floor(pow(random(), 3) * $customers)::bigint as customer_id,
                $as_of - to_seconds((random() * 180 * 86400)::bigint) as occurred_at
            from range($n) t(i)
        )
        order by occurred_at""",
    "payments": """
        insert into payments by name
        select 'pay-' || i as event_id, customer_id, occurred_at,
            'inv-' || i as invoice_id,
            if(r < 0.95, 'charge', ['refund', 'credit', 'chargeback'][1 + i % 3]) as kind,
            if(hash(i) % 20 = 0, 'failed', 'succeeded') as status,
            round(5 + r * 200, 2)::decimal(18, 4) as amount,
            'EUR' as currency,
            occurred_at + interval 14 day as due_at,
            null::json as extra,
            1 + (epoch($as_of)::bigint - epoch(occurred_at)::bigint) // 3600 as batch_id
        from (
            select i, random() as r, 'c' || floor(pow(random(), 2) * $customers)::bigint as customer_id,
                $as_of - to_seconds((random() * 180 * 86400)::bigint) as occurred_at
            from range($n) t(i)
        )
        order by occurred_at""",
    "visits": """
        insert into visits by name
        select 'v-' || i as event_id, customer_id, occurred_at,
            's-' || i as session_id,
            ['web', 'app', 'store', 'phone'][1 + i % 4] as channel,
            round(r * 1800) as duration_seconds,
            (1 + r * 20)::integer as pages,
            null::json as extra,
            1 + (epoch($as_of)::bigint - epoch(occurred_at)::bigint) // 3600 as batch_id
        from (
            select i, random() as r, 'c' || floor(pow(random(), 2) * $customers)::bigint as customer_id,
                $as_of - to_seconds((random() * 180 * 86400)::bigint) as occurred_at
            from range($n) t(i)
        )
        order by occurred_at""",
    "ingest_batches": """
        insert into ingest_batches by name
        select b as batch_id, 'kafka' as source,
            $as_of - interval (b - 1) hour - interval 2 second as started_at,
            $as_of - interval (b - 1) hour as committed_at,
            5000 as messages, 4990 as landed, 0 as duplicates, 10 as dead_lettered, 0 as quarantined,
            20.0 as min_latency_ms, 900.0 as max_latency_ms
        from range(1, 180 * 24 + 2) t(b)""",
    "dead_letter": """
        insert into dead_letter by name
        select i + 1 as dead_letter_id, $as_of - interval (i % 4000) minute as dead_lettered_at,
            1 + (i % 4000) // 60 as batch_id, ['tickets', 'payments', 'visits'][1 + i % 3] as event_type,
            ['tickets', 'payments', 'visits'][1 + i % 3] as topic, i % 3 as "partition", i as "offset",
            null as source_file, null as source_line, null::blob as message_key,
            ('{"event_id": "bad-' || i || '", "amount": "lots"}')::blob as raw,
            ['invalid_json', 'wrong_type', 'missing_field', 'out_of_range'][1 + i % 4] as reason_code,
            'amount: expected a number' as reason
        from range(10000) t(i)""",
    "consumer_lag": """
        insert into consumer_lag by name
        select topic, p as "partition", 1000000 as end_offset, 999000 + p * 100 as next_offset,
            1000 - p * 100 as lag, $as_of as observed_at
        from (values ('tickets'), ('payments'), ('visits'), ('customers')) v(topic), range(3) t(p)""",
}
SPLIT = {"visits": 0.6, "payments": 0.25, "tickets": 0.15}
# A long-running pipeline's history, derived from the refreshed rows: one snapshot per customer and day
# (scores wander, ~3% of customers a day in another segment) and ~2% of customers changing segment a day.
HISTORY = [
    """
    insert into health_snapshots by name
    select s.* replace (
        nextval('health_snapshot_ids') as snapshot_id,
        s.snapshot_at - to_days(d::integer) as snapshot_at,
        greatest(0, least(100, s.health_score + (hash(s.customer_id, d) % 21)::integer - 10)) as health_score,
        if(hash(s.customer_id, d) % 33 = 0,
           ['champion', 'healthy', 'at_risk', 'unprofitable', 'terrorist'][1 + (hash(s.customer_id) % 5)::bigint],
           s.segment) as segment)
    from health_snapshots as s, range(1, $days + 1) t(d)
    order by snapshot_at
    """,
    """
    insert into segment_changes by name
    select c.* replace (c.changed_at - to_days(d::integer) + to_hours(d % 24) as changed_at,
                        'healthy' as from_segment)
    from segment_changes as c, range(1, $days + 1) t(d)
    where hash(c.customer_id, d) % 50 = 0
    """,
]


def build(settings: Settings, customers: int, events: int, history_days: int) -> dict[str, float]:
    """Create the database; returns seconds per phase."""
    from customer_health.health.refresh import HealthRefresher

    phases: dict[str, float] = {}
    as_of = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    con = open_owner(settings)
    try:
        started = time.perf_counter()
        for table, sql in GENERATE.items():
            n = int(events * SPLIT.get(table, 0))
            params = {"as_of": as_of, "customers": customers, "n": n}
            con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})
        phases["raw events (SQL)"] = time.perf_counter() - started

        refresher = HealthRefresher(settings.health)
        started = time.perf_counter()
        con.execute("begin")
        refresher.rebuild_rollups(con)
        con.execute("commit")
        phases["health rollups rebuilt from the raw events"] = time.perf_counter() - started
        started = time.perf_counter()
        con.execute("begin")
        refresher.full_refresh(con, as_of, reason="bench")
        con.execute("commit")
        phases["health: one full refresh (the model itself)"] = time.perf_counter() - started
        started = time.perf_counter()
        for sql in HISTORY:
            con.execute(sql, {"days": history_days})
        phases[f"health history: {history_days} days of snapshots and segment changes (SQL)"] = (
            time.perf_counter() - started)

        started = time.perf_counter()
        from customer_health.alerts.pipeline import QualityAndAlerts

        jobs = QualityAndAlerts(con, settings)
        with con.cursor() as cur:
            jobs.run_table_suites(cur)
            jobs.evaluate_alerts(cur)
        phases["quality suites + alerts"] = time.perf_counter() - started
        con.execute("checkpoint")
    finally:
        con.close()
    return phases


def page_queries(settings: Settings, now: datetime, sample_customer: str, household: str | None) -> dict[
        str, Callable[[Statements], pd.DataFrame]]:
    """Every query the pages run, with the arguments they pass by default."""
    hour = now.replace(minute=0, second=0)
    topics = settings.kafka.topics.by_type()
    return {
        # Live health (every refresh)
        "live: pipeline_overview": lambda db: queries.pipeline_overview(db, now),
        "live: kpis": lambda db: queries.kpis(db, now),
        "live: drifting (100)": lambda db: queries.drifting(db, now, limit=100),
        "live: support_minutes (20)": lambda db: queries.support_minutes(db, limit=20),
        "live: segment_changes (24 h)": lambda db: queries.segment_changes(db, now - timedelta(hours=24)),
        "live: watchlist (200)": lambda db: queries.watchlist(db, now, limit=200),
        "live: watchlist search": lambda db: queries.watchlist(db, now, search=sample_customer, limit=200),
        "live: customer_cards (search)": lambda db: queries.customer_cards(db, sample_customer),
        "live: plans": queries.plans,
        # Portfolio
        "portfolio: summary": queries.portfolio_summary,
        "portfolio: segment_mix": queries.segment_mix,
        "portfolio: mix over time (90 d)": lambda db: queries.segment_mix_over_time(db, hour - timedelta(days=90)),
        "portfolio: mix over time, b2b": lambda db: queries.segment_mix_over_time(db, hour - timedelta(days=90),
                                                                                  "b2b"),
        "portfolio: whale_curve": lambda db: queries.whale_curve(db, points=400),
        "portfolio: revenue_vs_cost (5000)": lambda db: queries.revenue_vs_cost(db, limit=5000),
        "portfolio: segment_flows (90 d)": lambda db: queries.segment_flows(db, hour - timedelta(days=90)),
        # Customer
        "customer: search": lambda db: queries.customer_search(db, sample_customer),
        "customer: row": lambda db: queries.customer(db, sample_customer),
        "customer: timeline (90 d)": lambda db: queries.customer_timeline(db, sample_customer,
                                                                           now - timedelta(days=90)),
        "customer: snapshots (365 d)": lambda db: queries.customer_snapshots(db, sample_customer,
                                                                              now - timedelta(days=365)),
        "customer: segment changes": lambda db: queries.customer_segment_changes(db, sample_customer),
        "customer: household": lambda db: queries.household(db, household or "none"),
        "customer: interventions": lambda db: queries.customer_interventions(db, sample_customer),
        # Data quality & pipeline
        "dq: freshness": lambda db: queries.freshness(db, now, topics),
        "dq: topic_offsets": lambda db: queries.topic_offsets(db, settings.kafka.group_id),
        "dq: consumer_lag": queries.consumer_lag,
        "dq: ingest_throughput (24 h)": lambda db: queries.ingest_throughput(db, now - timedelta(hours=24)),
        "dq: ingest_batches (200)": lambda db: queries.ingest_batches(db, 200),
        "dq: dead_letter_reasons": queries.dead_letter_reasons,
        "dq: dead_letters (500)": lambda db: queries.dead_letters(db, limit=500),
        "dq: quality_latest": queries.quality_latest,
        "dq: quality_over_time (24 h)": lambda db: queries.quality_over_time(db, now - timedelta(hours=24)),
        "dq: quality_batch_failures": lambda db: queries.quality_batch_failures(db, now - timedelta(hours=24)),
        "dq: quarantine_summary": lambda db: queries.quarantine_summary(db),
        "dq: alerts": lambda db: queries.alerts(db),
    }


def plain_read(db: Statements) -> pd.DataFrame:
    return db.df("dashboard/health_table")


def timed(fn: Callable[[Statements], pd.DataFrame], db: Statements, repeat: int) -> tuple[list[float], int]:
    rows = len(fn(db))  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn(db)
        times.append(time.perf_counter() - started)
    return times, rows


def report(label: str, db: Statements, settings: Settings, repeat: int) -> None:
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    sample = db.one("dashboard/bench_sample_customer")
    customer_id, household = (sample[0], sample[1]) if sample else ("c1", None)
    base_times, base_rows = timed(plain_read, db, repeat)
    base = statistics.median(base_times)
    print(f"\n{label}: plain read of the health table (select * from customer_health, {base_rows:,} rows "
          f"into a DataFrame): median {base * 1000:,.0f} ms, worst {max(base_times) * 1000:,.0f} ms")
    print(f"{'query':<40} {'rows':>7} {'median ms':>10} {'worst ms':>9} {'x plain':>8}")
    worst_query = 0.0
    failed = 0
    for name, fn in page_queries(settings, now, customer_id, household).items():
        try:
            times, rows = timed(fn, db, repeat)
        except duckdb.Error as exc:
            failed += 1
            print(f"{name:<40} FAILED: {str(exc).splitlines()[0]}")
            continue
        median = statistics.median(times)
        worst_query = max(worst_query, max(times))
        print(f"{name:<40} {rows:>7,} {median * 1000:>10,.1f} {max(times) * 1000:>9,.1f} {median / base:>8.2f}")
    verdict = "every page query under 1 s" if worst_query < 1.0 else "SOME QUERY TOOK 1 s OR MORE"
    if failed:
        verdict += f"; {failed} FAILED"
    print(f"slowest single run of any page query: {worst_query * 1000:,.0f} ms ({verdict})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--history-days", type=int, default=90, help="days of health history before now")
    parser.add_argument("--db", type=Path, default=Path("/tmp/customer-health-bench/dashboard.duckdb"))
    parser.add_argument("--reuse", action="store_true", help="time an existing database instead of building")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quack", action="store_true", help="also time through a Quack server")
    args = parser.parse_args()
    settings = Settings(db_path=args.db).with_overrides(quack__port=free_port())
    if not (args.reuse and args.db.exists()):
        for path in (args.db, args.db.with_name(args.db.name + ".wal")):
            path.unlink(missing_ok=True)
        print(f"building {args.db}: {args.customers:,} customers, {args.events:,} events, "
              f"{args.history_days} days of health history ...", flush=True)
        for phase, seconds in build(settings, args.customers, args.events, args.history_days).items():
            print(f"  {phase}: {seconds:,.1f} s", flush=True)
    with reader(settings) as db:
        counts = db.one("status/landed_counts")
        print(f"database: {sum(counts[:3]):,} events (tickets {counts[0]:,}, payments {counts[1]:,}, "
              f"visits {counts[2]:,}), {counts[3]:,} customer events")
        report("file, read-only", db, settings, args.repeat)
    if args.quack:
        owner = open_owner(settings)
        server = serve(owner, settings)
        try:
            with reader(settings) as db:
                report(f"Quack ({server.uri})", db, settings, args.repeat)
        finally:
            server.stop()
            owner.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
