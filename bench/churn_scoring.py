"""Silent churn at 100k customers: fit time and per-refresh scoring time, next to one health refresh.

    .venv/bin/python bench/churn_scoring.py [--customers 100000] [--batch-customers 1000] [--repeat 3]
        [--db PATH]

1. Builds a database synthetically (benchmark fixtures, straight into the raw tables, not through the
   contract): N customer profiles; their succeeded charges drawn from the BG/NBD story (CDNOW-like
   dropout, a faster purchase rate) over the 52 weeks before now, first purchases spread over the first
   26; two visits per customer. Then the churn rollup and the health rollups are rebuilt from them.
2. Times, on the pipeline's owner connection:
   - fit: reading every customer's summary from the rollup, and the maximum-likelihood fit (stored);
   - scoring everyone (what the pipeline does at a new fit and at each new UTC day);
   - one batch that touches --batch-customers customers: the churn after_land hook (rollup + scoring of
     the touched customers), and next to it the health refresh of the same batch;
   - one full health refresh (which now also computes P(alive) in SQL for everyone), and that P(alive)
     part alone.
Prints median / worst of --repeat runs. Figures depend on the machine: compare side by side.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from customer_health import sqlfiles  # noqa: E402
from customer_health.churn import bgnbd, model  # noqa: E402
from customer_health.config import Settings  # noqa: E402
from customer_health.db import open_owner  # noqa: E402
from customer_health.health.refresh import HealthRefresher  # noqa: E402
from ingest.landing import BatchContext  # noqa: E402

NOW = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
TRUE = bgnbd.BgNbdParams(r=0.9, alpha=8.0, a=0.8, b=2.4)

PROFILES = """
insert into customer_events by name
select 'p-' || i as event_id, 'c' || i as customer_id, $now - interval 400 day as occurred_at,
    'Customer ' || i as name, if(i % 5 = 0, 'b2b', 'b2c') as kind, 'standard' as plan,
    null as household_id, $now - interval 400 day as signed_up_at, null as cancelled_at, null::json as extra,
    1 as batch_id
from range($customers) t(i);
insert into customers by name
select customer_id, name, kind, plan, household_id, signed_up_at, cancelled_at,
    occurred_at as profile_updated_at
from customer_events;
insert into visits by name
select 'v-' || i || '-' || k as event_id, 'c' || i as customer_id,
    $now - to_days((hash(i, k) % 180)::integer) as occurred_at, 's-' || i || '-' || k as session_id,
    'web' as channel, 300 as duration_seconds, 4 as pages, null::json as extra, 1 as batch_id
from range($customers) t(i), range(2) u(k);
"""

PAYMENTS = """
insert into payments by name
select event_id, customer_id, occurred_at, event_id as invoice_id, 'charge' as kind, 'succeeded' as status,
    amount::decimal(18, 4) as amount, 'EUR' as currency, null as due_at, null::json as extra, batch_id
from new_payments
"""


def simulate(customers: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(customer index, days before now) of every purchase: BG/NBD with first purchases in weeks 0..26."""
    first = rng.uniform(0, 26, customers)  # weeks after the window start (52 weeks before now)
    lam = rng.gamma(TRUE.r, 1 / TRUE.alpha, customers)
    p = rng.beta(TRUE.a, TRUE.b, customers)
    who, when = [np.arange(customers)], [first]
    alive = np.ones(customers, dtype=bool)
    t = first.copy()
    while alive.any():
        t = t + rng.exponential(1 / np.maximum(lam, 1e-12))
        alive &= t < 52
        who.append(np.flatnonzero(alive))
        when.append(t[alive])
        alive &= rng.random(customers) >= p  # drops out after this repeat purchase
    weeks = np.concatenate(when)
    return np.concatenate(who), np.floor((52 - weeks) * 7).astype(np.int64)


def insert_payments(con: duckdb.DuckDBPyConnection, who: np.ndarray, days_ago: np.ndarray, batch_id: int,
                    tag: str, rng: np.random.Generator) -> None:
    at = np.datetime64(NOW) - days_ago.astype("timedelta64[D]") + np.timedelta64(12, "h")
    table = pa.table({
        "event_id": [f"{tag}{i}" for i in range(len(who))],
        "customer_id": [f"c{i}" for i in who],
        "occurred_at": pa.array(np.minimum(at, np.datetime64(NOW)).astype("datetime64[us]")),
        "amount": np.round(rng.lognormal(3.5, 0.6, len(who)), 2),
        "batch_id": np.full(len(who), batch_id, dtype=np.int64),
    })
    con.register("new_payments", table)
    try:
        con.execute(PAYMENTS)
    finally:
        con.unregister("new_payments")


def in_transaction(con: duckdb.DuckDBPyConnection, fn: Callable[[], Any]) -> Any:
    con.execute("begin")
    try:
        result = fn()
        con.execute("commit")
        return result
    except BaseException:
        con.execute("rollback")
        raise


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def line(label: str, seconds: list[float], note: str = "") -> None:
    """One figure as ``label: value`` (bench/run_all.py reads such lines as rows)."""
    worst = f" (worst {max(seconds) * 1000:,.1f} ms)" if len(seconds) > 1 else ""
    print(f"{label}: {statistics.median(seconds) * 1000:,.1f} ms{worst}" + (f", {note}" if note else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--batch-customers", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", type=Path, help="database file (default: a temporary one)")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    path = args.db or Path(tempfile.mkdtemp(prefix="churn-bench-")) / "churn.duckdb"
    path.unlink(missing_ok=True)
    base = Settings(db_path=path)
    # The measured health refreshes stay what they are asked to be (no norm-age upgrade to a full refresh).
    settings = base.with_overrides(health__norms_max_age_minutes=1e9)
    con = open_owner(settings)

    started = time.perf_counter()
    for statement in PROFILES.split(";"):
        if statement.strip():
            con.execute(statement, {k: v for k, v in {"customers": args.customers, "now": NOW}.items()
                                    if f"${k}" in statement})
    who, days_ago = simulate(args.customers, rng)
    insert_payments(con, who, days_ago, 1, "h", rng)
    refresher = HealthRefresher(settings.health)
    in_transaction(con, lambda: model.rebuild_transactions(con, settings))
    in_transaction(con, lambda: refresher.rebuild_rollups(con))
    in_transaction(con, lambda: refresher.full_refresh(con, NOW, reason="first"))
    con.execute("checkpoint")
    transactions = con.execute("select count(*) from churn_days").fetchone()[0]
    print(f"customers: {args.customers:,} ({len(who):,} charges on {transactions:,} customer-days; built in "
          f"{time.perf_counter() - started:.1f} s; median of {args.repeat} runs)")

    run = sqlfiles.Statements(con)
    reads, fits, stored = [], [], None
    for _ in range(args.repeat):
        seconds, summaries = timed(lambda: model.load_summaries(run, NOW))
        reads.append(seconds)
        seconds, result = timed(lambda s=summaries: bgnbd.fit(s.frequency, s.recency_weeks, s.age_weeks))
        fits.append(seconds)
    seconds, stored = timed(lambda: model.fit_model(run, NOW, trigger="manual"))
    line("fit, reading every customer's summary", reads, f"{len(summaries):,} customers")
    line("fit, maximum likelihood (bgnbd.fit)", fits, f"{result.unique_rows:,} distinct rows, "
         f"{'converged' if result.converged else 'NOT converged'}")
    line("fit, fit_model once (read + fit + store)", [seconds],
         f"r={stored.r:.3f} alpha={stored.alpha:.2f} a={stored.a:.3f} b={stored.b:.3f} "
         f"(true {TRUE.r}, {TRUE.alpha}, {TRUE.a}, {TRUE.b})")

    everyone = [timed(lambda: in_transaction(con, lambda: model.score_customers(con, settings, None, NOW)))[0]
                for _ in range(args.repeat)]
    line("scoring everyone (at a new fit or UTC day)", everyone, f"{args.customers:,} customers, closed forms")

    hooks = model.ChurnPipelineHooks(con, settings)
    hooks._scored_fit_id, hooks._scored_day = stored.fit_id, NOW.date()  # already scored: batches are incremental
    churn_batch, health_batch, touched = [], [], []
    next_batch = 2
    for b in range(args.repeat):
        customers = rng.choice(args.customers, args.batch_customers, replace=False)
        insert_payments(con, customers, np.zeros(len(customers), dtype=np.int64), next_batch, f"b{b}-", rng)
        ctx = BatchContext(next_batch, NOW + timedelta(minutes=b + 1), "kafka", sqlfiles.Statements(con))

        def batch(ctx: BatchContext = ctx) -> tuple[float, float, int]:
            churn_s, scored = timed(lambda: hooks.after_land(con, ctx))
            health_s, _ = timed(lambda: refresher.refresh_batch(con, ctx.batch_id, ctx.now))
            return churn_s, health_s, scored

        churn_s, health_s, scored = in_transaction(con, batch)
        churn_batch.append(churn_s)
        health_batch.append(health_s)
        touched.append(scored)
        next_batch += 1
    line(f"batch of {args.batch_customers:,} charged customers, churn hook", churn_batch,
         f"rollup + scoring of {statistics.median(touched):,.0f} customers")
    line("the same batch, health refresh (incremental)", health_batch)

    health_full = [timed(lambda: in_transaction(con, lambda: refresher.full_refresh(con, NOW, reason="bench")))[0]
                   for _ in range(args.repeat)]
    line("one full health refresh", health_full, f"{args.customers:,} customers, P(alive) in SQL included")
    p_alive_sql = [timed(lambda: con.execute(
        "select count(*), avg(p_alive) from churn_p_alive_of('health_state')").fetchall())[0]
        for _ in range(args.repeat)]
    line("within it, the P(alive) join (churn_p_alive_of)", p_alive_sql)
    con.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
