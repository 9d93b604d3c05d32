"""Run every benchmark under bench/ and print their figures in one table (`make bench`).

    .venv/bin/python bench/run_all.py [--full] [--only NAME ...] [--markdown] [--timeout SECONDS]

Each benchmark runs as its own process, with small sizes by default (the whole suite in a few minutes)
or with --full at the sizes the issue names (1M/10M events, 100k customers: much longer). A benchmark
that is not there is listed as missing; one that fails is listed with its exit code and last line.
Options a benchmark does not offer (per its --help) are not passed; a benchmark under bench/ that the
suite does not list runs only with --full, at its own sizes. Every line a benchmark prints on
stdout is a figure; `label: value` lines become (measure, result) rows.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent

try:
    import customer_health  # noqa: F401
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(REPO))

from customer_health.progress import progress  # noqa: E402


@dataclass(frozen=True)
class Benchmark:
    name: str  # bench/<name>.py (or the first of ``aliases`` that exists)
    what: str
    quick: tuple[str, ...] = ()
    full: tuple[str, ...] = ()  # empty: the benchmark's own defaults, which are the sizes
    aliases: tuple[str, ...] = ()

    def script(self) -> Path | None:
        for name in (self.name, *self.aliases):
            if (BENCH / f"{name}.py").exists():
                return BENCH / f"{name}.py"
        return None


# The benchmark suite, in the order a reader follows the data. "{tmp}" is a scratch directory.
SUITE: tuple[Benchmark, ...] = (
    Benchmark("simulate_rate", "simulator: events generated per second",
              quick=("--customers", "1000", "--live", "50000", "--repeat", "3")),
    Benchmark("ingest_rate", "ingest rate vs raw consume rate; produced -> landed latency at a steady rate",
              quick=("--events", "50000", "--steady-rate", "1000", "--steady-seconds", "10")),
    Benchmark("landing_cost", "landing per event in-process: plug-ins, GIL hand-offs, checkpoint threshold",
              quick=("--events", "100000", "--gil-events", "40000")),
    Benchmark("quality_batch_cost", "what the quality batch suites add to landing a batch",
              quick=("--batches", "6")),
    Benchmark("freshness", "end to end: produced -> health and segment readable by a client, at a steady rate",
              quick=("--customers", "1000", "--seconds", "20"),
              full=("--customers", "5000", "--rate", "1000", "--seconds", "60")),
    Benchmark("lake_scale", "lake (DuckLake on PostgreSQL) vs the embedded file; 1 vs 3 lake pipelines; 3 and 10 "
              "machines on paper",
              quick=("--events", "60000", "--seconds", "10", "--customers", "500", "--commit-seconds", "5"),
              full=("--events", "300000", "--partitions", "12", "--seconds", "60", "--customers", "5000",
                    "--commit-seconds", "15")),
    Benchmark("backfill", "backfill: `load` of simulated JSONL (health and history included) vs DuckDB's read_json",
              quick=("--customers", "1000", "--history-days", "60", "--dir", "{tmp}")),
    Benchmark("health_refresh", "health: incremental refresh vs full recompute (issue size: 1M and 10M events)",
              quick=("--customers", "10000", "--events", "100000", "1000000", "--batches", "5", "--repeat", "1",
                     "--dir", "{tmp}"),
              aliases=("refresh_incremental",)),
    Benchmark("dashboard_queries", "dashboard page queries (issue size: 100k customers / 10M events)",
              quick=("--customers", "10000", "--events", "1000000", "--repeat", "3",
                     "--db", "{tmp}/dashboard.duckdb")),
    Benchmark("churn_scoring", "silent churn: BG/NBD fit and scoring next to a health refresh",
              quick=("--customers", "20000", "--repeat", "1")),
    Benchmark("bgnbd_fit", "BG/NBD churn model: fit and scoring",
              quick=("--customers", "20000")),
)


def unlisted() -> list[Benchmark]:
    """Benchmarks under bench/ that the suite does not know: run at their own defaults with --full only."""
    known = {n for b in SUITE for n in (b.name, *b.aliases)} | {"run_all"}
    return [Benchmark(p.stem, "(not in the suite's list)") for p in sorted(BENCH.glob("*.py"))
            if p.stem not in known and not p.stem.startswith("_")]


@dataclass
class Outcome:
    bench: Benchmark
    status: str  # ok, failed, missing, skipped, timeout
    seconds: float = 0.0
    rows: list[tuple[str, str]] = field(default_factory=list)
    detail: str = ""


def supported(script: Path, args: tuple[str, ...]) -> list[str]:
    """``args`` without the options the script's --help does not mention (with their values)."""
    try:
        help_text = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True,
                                   timeout=60, cwd=REPO).stdout
    except subprocess.TimeoutExpired:
        return list(args)
    out: list[str] = []
    i = 0
    while i < len(args):
        option, values = args[i], []
        while i + 1 + len(values) < len(args) and not args[i + 1 + len(values)].startswith("--"):
            values.append(args[i + 1 + len(values)])
        if re.search(rf"(^|[\s,\[]){re.escape(option)}(?![\w-])", help_text):
            out += [option, *values]
        i += 1 + len(values)
    return out


def figures(stdout: str) -> list[tuple[str, str]]:
    rows = []
    for line in stdout.splitlines():
        text = " ".join(line.split())
        if not text:
            continue
        measure, sep, result = text.partition(": ")
        rows.append((measure, result) if sep and len(measure) <= 60 else ("", text))
    return rows


def run(bench: Benchmark, full: bool, timeout: float, tmp: Path) -> Outcome:
    script = bench.script()
    if script is None:
        return Outcome(bench, "missing", detail=f"bench/{bench.name}.py is not there yet")
    if bench.what.startswith("(not in") and not full:
        return Outcome(bench, "skipped", detail="not in the suite's list: runs at its own sizes with --full")
    wanted = bench.full if full else bench.quick
    args = [a.replace("{tmp}", str(tmp)) for a in supported(script, wanted)]
    command = [sys.executable, str(script), *args]
    sys.stderr.write(f"running bench/{script.name} {' '.join(args)} ...\n")
    started = time.monotonic()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=REPO,
                              env=dict(os.environ, PYTHONUNBUFFERED="1"))
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return Outcome(bench, "timeout", time.monotonic() - started, figures(out),
                       f"stopped after {timeout:.0f} s")
    seconds = time.monotonic() - started
    sys.stderr.write(f"  {bench.name}: exit {done.returncode} after {seconds:.0f} s\n")
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        last = lines[-1] if lines else "no error output: a goal the benchmark checks was missed (see its figures)"
        return Outcome(bench, "failed", seconds, figures(done.stdout), f"exit {done.returncode}: {last}")
    return Outcome(bench, "ok", seconds, figures(done.stdout))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}")


def table(outcomes: list[Outcome], markdown: bool) -> str:
    rows: list[tuple[str, str, str]] = []
    for o in outcomes:
        name = (o.bench.script() or Path(o.bench.name)).stem
        head = f"{name} ({o.seconds:.0f} s)" if o.seconds else name
        if o.status != "ok":
            rows.append((head, o.status.upper(), o.detail))
            head = ""
        for measure, result in o.rows:
            rows.append((head, measure, result))
            head = ""
        if o.status == "ok" and not o.rows:
            rows.append((head, "", "(no figures printed)"))
    header = ("benchmark", "measure", "result")
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|---|---|---|"]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(2)]
    lines = [f"{header[0]:<{widths[0]}}  {header[1]:<{widths[1]}}  {header[2]}",
             f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * 6}"]
    lines += [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}" for a, b, c in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the issue's sizes (long) instead of small ones")
    parser.add_argument("--only", nargs="+", metavar="NAME", choices=[b.name for b in SUITE],
                        help="run only these benchmarks")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (for RESULTS.md)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds per benchmark (default 900, or 7200 with --full)")
    args = parser.parse_args()
    timeout = args.timeout or (7200.0 if args.full else 900.0)
    chosen = [b for b in (*SUITE, *unlisted()) if not args.only or b.name in args.only]
    started = datetime.now(UTC)
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="customer-health-bench-") as tmp, \
            progress("benchmarks", unit="benchmarks", total=len(chosen)) as shown:
        for bench in chosen:
            outcomes.append(run(bench, args.full, timeout, Path(tmp)))
            shown.advance()
    print(f"customer-health benchmarks, {'full' if args.full else 'quick'} sizes, "
          f"{started:%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine()}")
    print()
    print(table(outcomes, args.markdown))
    return 0 if all(o.status in ("ok", "missing", "skipped") for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
