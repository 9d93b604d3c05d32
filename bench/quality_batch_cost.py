"""What the batch suites cost: landing 5,000-event batches with and without them, side by side.

Lands the same kind of mixed batches (the four event types, a quarter each) into two databases,
alternating with/without the batch-suite hook so both see the same machine load, and reports the
median landing time per batch of each, the difference, and the table-suite run time on what landed.

With --baseline-rev, the same measurement also runs on that git revision (checked out in a temporary
git worktree), each side in its own process, the two alternating for --rounds rounds; then the working
tree's figures over all its rounds are printed, followed by both sides' per-batch costs and their ratio
(new = working tree, old = the revision).

    .venv/bin/python bench/quality_batch_cost.py [--batches 12] [--batch-size 5000] [--product]
                                                 [--baseline-rev REV] [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ingest.landing import RawBatch

REPO = Path(__file__).resolve().parent.parent


@dataclasses.dataclass
class Measurement:
    """One process's figures; times in ms per batch (the warm-up round excluded)."""

    gx_import_s: float
    landing_path: str
    batch_size: int
    plain_ms: list[float]
    checked_ms: list[float]
    suite_ms: list[float]  # GX validation inside each checked batch
    suite_cpu_ms: list[float]  # CPU time of the validating thread in the GX validations of each checked batch
    hook_cpu_ms: list[float]  # CPU time (all threads of the process) of the batch-suite hook per checked batch
    table_rows: int
    table_s: float
    table_suites: list[tuple[str, float]]  # (suite, ms) of the suites that ran
    code: str  # where the validating code was imported from


def batch(n: int, round_: int, now: datetime) -> RawBatch:
    from ingest.landing import RawBatch
    from tests.factories import FACTORIES, encode

    b = RawBatch()
    types = list(FACTORIES)
    for i in range(n):
        event_type = types[i % 4]
        occurred = (now - timedelta(seconds=i)).isoformat() + "Z"
        event = FACTORIES[event_type](f"{round_}-{i}", f"c{i % 997}", occurred_at=occurred)
        b.add_kafka(event_type, event_type, 0, round_ * n + i, None, encode(event), None)
    return b


class CpuTimedHook:
    """Delegates to a ``before_land`` hook and keeps the process CPU time of its last call."""

    def __init__(self, hook: Any) -> None:
        self.hook = hook
        self.last_cpu_ms = 0.0

    def __call__(self, con: Any, ctx: Any) -> int:
        started = time.process_time()
        try:
            return int(self.hook(con, ctx) or 0)
        finally:
            self.last_cpu_ms = (time.process_time() - started) * 1000


def measure(batches: int, batch_size: int, product: bool) -> Measurement:
    """Land ``batches`` (+1 warm-up) batches with and without the batch suites, in this process."""
    from customer_health import sqlfiles
    from customer_health.config import load_settings
    from customer_health.db import open_owner
    from expectations import runner
    from expectations.batch import BatchQualityHook
    from expectations.tables import run_table_suites
    from ingest.landing import Lander
    from ingest.service import build_lander

    # The same measurement runs on an older revision too (--baseline-rev): take each API where that
    # revision has it.
    # (Checked by file: the editable install would supply a module the measured tree lacks from this one.)
    if (Path(sqlfiles.__file__).parent / "composition.py").exists():
        from customer_health.composition import pipeline_extensions
    else:
        from ingest.service import default_extensions as pipeline_extensions
    if hasattr(sqlfiles, "Statements"):
        def table_frame_reader(con: Any) -> Any:
            return sqlfiles.Statements(con)
    else:
        def table_frame_reader(con: Any) -> Any:
            return lambda n, params: sqlfiles.run(con, n, params).df()

    tmp = Path(tempfile.mkdtemp(prefix="quality-bench-"))
    t = time.perf_counter()
    suite_runner = runner.get_runner()
    gx_import_s = time.perf_counter() - t
    validate = suite_runner.validate
    validation_cpu_ms = [0.0]

    def cpu_timed_validate(*args: Any, **kwargs: Any) -> Any:
        started = time.thread_time()
        try:
            return validate(*args, **kwargs)
        finally:
            validation_cpu_ms[0] += (time.thread_time() - started) * 1000

    suite_runner.validate = cpu_timed_validate  # type: ignore[method-assign]
    base = load_settings(None, env={})
    plain_settings = base.with_overrides(db_path=tmp / "plain.duckdb", quality__batch_suites=False)
    checked_settings = base.with_overrides(db_path=tmp / "checked.duckdb")
    plain_con, checked_con = open_owner(plain_settings), open_owner(checked_settings)
    if product:  # every pipeline hook (health refresh, churn, quality), batch suites on or off
        plain_ext = pipeline_extensions(plain_con, plain_settings)
        checked_ext = pipeline_extensions(checked_con, checked_settings)
        plain = build_lander(plain_con, plain_settings, plain_ext)
        checked = build_lander(checked_con, checked_settings, checked_ext)
        hook = next(h for h in checked.before_land if isinstance(h, BatchQualityHook))
        timed = CpuTimedHook(hook)
        checked.before_land[checked.before_land.index(hook)] = timed
    else:  # the landing path alone, plus the batch suites
        hook = BatchQualityHook(checked_settings)
        timed = CpuTimedHook(hook)
        plain, checked = Lander(plain_con, "g", 65536), Lander(checked_con, "g", 65536, before_land=[timed])
    now = datetime.now(UTC).replace(tzinfo=None)
    times: dict[str, list[float]] = {"plain": [], "checked": []}
    suite_ms: list[float] = []
    hook_cpu_ms: list[float] = []
    suite_cpu_ms: list[float] = []
    for r in range(batches + 1):  # the first round warms up and is not counted
        for name, lander in (("plain", plain), ("checked", checked)) if r % 2 else (("checked", checked),
                                                                                     ("plain", plain)):
            b = batch(batch_size, r, now)
            validation_cpu_ms[0] = 0.0
            started = time.perf_counter()
            result = lander.land(b, "kafka")
            elapsed = time.perf_counter() - started
            assert result.landed == batch_size, result
            if r:
                times[name].append(elapsed * 1000)
                if name == "checked":
                    suite_ms.append(sum(res.duration_ms for res in hook.last_results))
                    hook_cpu_ms.append(timed.last_cpu_ms)
                    suite_cpu_ms.append(validation_cpu_ms[0])
    total_rows = batches * batch_size + batch_size
    started = time.perf_counter()
    check = run_table_suites(table_frame_reader(checked_con), checked_settings,
                             datetime.now(UTC).replace(tzinfo=None))
    table_s = time.perf_counter() - started
    for ext in ((plain_ext, checked_ext) if product else ()):
        for stop in ext.on_stop:
            stop()
    plain_con.close()
    checked_con.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return Measurement(
        gx_import_s, "the product (all pipeline hooks)" if product else "landing only", batch_size,
        times["plain"], times["checked"], suite_ms, suite_cpu_ms, hook_cpu_ms, total_rows, table_s,
        # a measured older tree skips the suites whose table it lacks (skipped_reason)
        [(r.suite, r.duration_ms) for r in check.results if not getattr(r, "skipped_reason", None)],
        str(Path(runner.__file__).resolve().parent.parent),
    )


def report(m: Measurement, batches_label: str) -> None:
    print(f"Great Expectations import + context: {m.gx_import_s:.2f} s (once per process)")
    print(f"landing path: {m.landing_path}")
    p, c = statistics.median(m.plain_ms) / 1000, statistics.median(m.checked_ms) / 1000
    print(f"{batches_label} of {m.batch_size:,} events (median per batch):")
    print(f"  landing without batch suites: {p * 1000:7.1f} ms  ({m.batch_size / p:,.0f} events/s)")
    print(f"  landing with batch suites:    {c * 1000:7.1f} ms  ({m.batch_size / c:,.0f} events/s)")
    print(f"  batch suites (GX validate):   {statistics.median(m.suite_ms):7.1f} ms of it; "
          f"landing +{(c - p) * 1000:.1f} ms ({(c / p - 1) * 100:+.0f}%)")
    print(f"table suites on {m.table_rows:,} landed events: {m.table_s:.2f} s "
          f"({', '.join(f'{suite} {ms:.0f} ms' for suite, ms in m.table_suites)})")


@contextlib.contextmanager
def checkout(rev: str) -> Iterator[Path]:
    """A temporary git worktree of ``rev`` (detached), removed afterwards."""
    parent = Path(tempfile.mkdtemp(prefix="quality-bench-baseline-"))
    tree = parent / "tree"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet", str(tree), rev],
                   check=True, capture_output=True, text=True)
    try:
        yield tree
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(tree)],
                       capture_output=True, text=True)
        shutil.rmtree(parent, ignore_errors=True)


def measure_in_subprocess(root: Path, args: argparse.Namespace) -> Measurement:
    """This script's measurement in a fresh process that imports the code at ``root``."""
    command = [sys.executable, str(Path(__file__).resolve()), "--code", str(root), "--json",
               "--batches", str(args.batches), "--batch-size", str(args.batch_size)]
    if args.product:
        command.append("--product")
    done = subprocess.run(command, capture_output=True, text=True, cwd=root,
                          env=dict(os.environ, PYTHONPATH=str(root)))
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise SystemExit(f"measuring {root} failed (exit {done.returncode}): {lines[-1] if lines else ''}")
    fields: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    m = Measurement(**fields)
    if Path(m.code) != root.resolve():
        raise SystemExit(f"measuring {root} imported the code at {m.code} instead")
    return m


def pooled(ms: list[Measurement]) -> Measurement:
    """The rounds of one side as one measurement (their batches pooled)."""
    return dataclasses.replace(
        ms[0], gx_import_s=statistics.median(m.gx_import_s for m in ms),
        plain_ms=[t for m in ms for t in m.plain_ms], checked_ms=[t for m in ms for t in m.checked_ms],
        suite_ms=[t for m in ms for t in m.suite_ms], suite_cpu_ms=[t for m in ms for t in m.suite_cpu_ms],
        hook_cpu_ms=[t for m in ms for t in m.hook_cpu_ms],
        table_s=statistics.median(m.table_s for m in ms),
    )


def added_ms(m: Measurement) -> float:
    """What the batch suites add to landing one batch (median with minus median without)."""
    return statistics.median(m.checked_ms) - statistics.median(m.plain_ms)


def compare(args: argparse.Namespace) -> None:
    sides: dict[str, list[Measurement]] = {"old": [], "new": []}
    with checkout(args.baseline_rev) as tree:
        roots = {"old": tree, "new": REPO}
        for r in range(args.rounds):
            for side in ("old", "new") if r % 2 == 0 else ("new", "old"):
                sys.stderr.write(f"round {r + 1}/{args.rounds}: {side} ({roots[side]}) ...\n")
                sides[side].append(measure_in_subprocess(roots[side], args))
    old, new = pooled(sides["old"]), pooled(sides["new"])
    report(new, f"{args.rounds} rounds x {args.batches} batches")
    print(f"baseline {args.baseline_rev} (old) vs working tree (new), {args.rounds} rounds alternating, "
          f"{args.rounds * args.batches} batches of {args.batch_size:,} events each (median per batch):")
    figures: list[tuple[str, Callable[[Measurement], float]]] = [
        ("batch suites (GX validate)", lambda m: statistics.median(m.suite_ms)),
        ("batch suites (GX validate), thread CPU", lambda m: statistics.median(m.suite_cpu_ms)),
        ("batch-suite hook CPU (frames, GX, records)", lambda m: statistics.median(m.hook_cpu_ms)),
        ("landing added by batch suites", added_ms),
    ]
    for label, figure in figures:
        rounds = [figure(n) / figure(o) for o, n in zip(sides["old"], sides["new"], strict=True)]
        print(f"  {label}: old {figure(old):.1f} ms, new {figure(new):.1f} ms, new/old {figure(new) / figure(old):.2f}"
              f" (rounds {min(rounds):.2f}-{max(rounds):.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--product", action="store_true",
                        help="land through every pipeline hook (health refresh, churn), not the landing path alone")
    parser.add_argument("--baseline-rev", metavar="REV",
                        help="also measure this git revision (in a temporary worktree) and compare")
    parser.add_argument("--rounds", type=int, default=3,
                        help="with --baseline-rev: processes per side, alternating (default 3)")
    parser.add_argument("--code", type=Path, default=REPO, help=argparse.SUPPRESS)  # the checkout to measure
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # print the figures as JSON
    args = parser.parse_args()
    if args.baseline_rev:
        compare(args)
        return
    sys.path.insert(0, str(args.code.resolve()))
    m = measure(args.batches, args.batch_size, args.product)
    if args.json:
        print(json.dumps(dataclasses.asdict(m)))
    else:
        report(m, f"{args.batches} batches")


if __name__ == "__main__":
    main()
