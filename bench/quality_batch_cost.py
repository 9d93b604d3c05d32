"""What the batch suites cost: landing 5,000-event batches with and without them, side by side.

Lands the same kind of mixed batches (the four event types, a quarter each) into two databases,
alternating with/without the batch-suite hook so both see the same machine load, and reports the
median landing time per batch of each, the difference, and the table-suite run time on what landed.

    .venv/bin/python bench/quality_batch_cost.py [--batches 12] [--batch-size 5000] [--product]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from customer_health import sqlfiles  # noqa: E402
from customer_health.composition import pipeline_extensions  # noqa: E402
from customer_health.config import load_settings  # noqa: E402
from customer_health.db import open_owner  # noqa: E402
from expectations.batch import BatchQualityHook  # noqa: E402
from expectations.runner import get_runner  # noqa: E402
from expectations.tables import run_table_suites  # noqa: E402
from ingest.landing import Lander, RawBatch  # noqa: E402
from ingest.service import build_lander  # noqa: E402
from tests.factories import FACTORIES, encode  # noqa: E402


def batch(n: int, round_: int, now: datetime) -> RawBatch:
    b = RawBatch()
    types = list(FACTORIES)
    for i in range(n):
        event_type = types[i % 4]
        occurred = (now - timedelta(seconds=i)).isoformat() + "Z"
        event = FACTORIES[event_type](f"{round_}-{i}", f"c{i % 997}", occurred_at=occurred)
        b.add_kafka(event_type, event_type, 0, round_ * n + i, None, encode(event), None)
    return b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--product", action="store_true",
                        help="land through every pipeline hook (health refresh, churn), not the landing path alone")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="quality-bench-"))
    t = time.perf_counter()
    get_runner()
    print(f"Great Expectations import + context: {time.perf_counter() - t:.2f} s (once per process)")
    base = load_settings(None, env={})
    plain_settings = base.with_overrides(db_path=tmp / "plain.duckdb", quality__batch_suites=False)
    checked_settings = base.with_overrides(db_path=tmp / "checked.duckdb")
    plain_con, checked_con = open_owner(plain_settings), open_owner(checked_settings)
    if args.product:  # every pipeline hook (health refresh, churn, quality), batch suites on or off
        plain_ext = pipeline_extensions(plain_con, plain_settings)
        checked_ext = pipeline_extensions(checked_con, checked_settings)
        plain = build_lander(plain_con, plain_settings, plain_ext)
        checked = build_lander(checked_con, checked_settings, checked_ext)
        hook = next(h for h in checked.before_land if isinstance(h, BatchQualityHook))
    else:  # the landing path alone, plus the batch suites
        hook = BatchQualityHook(checked_settings)
        plain, checked = Lander(plain_con, "g", 65536), Lander(checked_con, "g", 65536, before_land=[hook])
    print(f"landing path: {'the product (all pipeline hooks)' if args.product else 'landing only'}")
    now = datetime.now(UTC).replace(tzinfo=None)
    times: dict[str, list[float]] = {"plain": [], "checked": []}
    suite_ms: list[float] = []
    for r in range(args.batches + 1):  # the first round warms up and is not counted
        for name, lander in (("plain", plain), ("checked", checked)) if r % 2 else (("checked", checked),
                                                                                     ("plain", plain)):
            b = batch(args.batch_size, r, now)
            started = time.perf_counter()
            result = lander.land(b, "kafka")
            elapsed = time.perf_counter() - started
            assert result.landed == args.batch_size, result
            if r:
                times[name].append(elapsed)
                if name == "checked":
                    suite_ms.append(sum(res.duration_ms for res in hook.last_results))
    p, c = statistics.median(times["plain"]), statistics.median(times["checked"])
    print(f"{args.batches} batches of {args.batch_size:,} events (median per batch):")
    print(f"  landing without batch suites: {p * 1000:7.1f} ms  ({args.batch_size / p:,.0f} events/s)")
    print(f"  landing with batch suites:    {c * 1000:7.1f} ms  ({args.batch_size / c:,.0f} events/s)")
    print(f"  batch suites (GX validate):   {statistics.median(suite_ms):7.1f} ms of it; "
          f"landing +{(c - p) * 1000:.1f} ms ({(c / p - 1) * 100:+.0f}%)")
    total_rows = args.batches * args.batch_size + args.batch_size
    started = time.perf_counter()
    check = run_table_suites(sqlfiles.Statements(checked_con), checked_settings,
                             datetime.now(UTC).replace(tzinfo=None))
    print(f"table suites on {total_rows:,} landed events: {time.perf_counter() - started:.2f} s "
          f"({', '.join(f'{r.suite} {r.duration_ms:.0f} ms' for r in check.results if not r.skipped_reason)})")
    for ext in ((plain_ext, checked_ext) if args.product else ()):
        for stop in ext.on_stop:
            stop()
    plain_con.close()
    checked_con.close()


if __name__ == "__main__":
    main()
