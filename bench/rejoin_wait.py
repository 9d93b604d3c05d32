"""Benchmark: how long a pipeline restarted after kill -9 waits for its partitions, with dynamic and with
static group membership (kafka.static_membership, KIP-345).

    .venv/bin/python bench/rejoin_wait.py [--rounds 3] [--session-timeout-ms 6000] [--bootstrap-servers HOST:PORT]

Starts its own embedded broker (Tansu) unless --bootstrap-servers names one, creates 4 topics of 3
partitions, and per round and mode: starts `customer-health ingest --no-serve` on a fresh consumer group,
waits for its assignment, kills it with SIGKILL, starts it again on the same database and measures, from
the restarted pipeline's own log, the seconds from "consuming" (just before it joins the group) to
"assigned" (its partitions are back). Prints figures only.
"""

from __future__ import annotations

import argparse
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

try:
    import customer_health  # noqa: F401
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from customer_health.config import load_settings  # noqa: E402
from ingest.broker import ensure_topics, free_port, start_broker  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")


def _logged_at(log: Path, marker: str, after: int = 0) -> tuple[float, int] | None:
    """(epoch seconds, line number) of the first line at or after ``after`` that contains ``marker``."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    for number, line in enumerate(lines[after:], start=after):
        match = STAMP.match(line)
        if match and marker in line:
            return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp(), number
    return None


def _wait_logged(log: Path, marker: str, after: int, proc: subprocess.Popen, timeout: float) -> tuple[float, int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _logged_at(log, marker, after)
        if found:
            return found
        if proc.poll() is not None:
            raise SystemExit(f"the pipeline exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        time.sleep(0.05)
    raise SystemExit(f"no '{marker}' in {log} after {timeout:.0f} s:\n{log.read_text()[-2000:]}")


def one_round(tmp: Path, bootstrap: str, static: bool, session_timeout_ms: int) -> tuple[float, float]:
    """(seconds to the first assignment of a fresh group, seconds to the assignment after kill -9)."""
    suffix = uuid.uuid4().hex[:8]
    config = tmp / f"{suffix}.toml"
    topics = "\n".join(f'{t} = "{t}-{suffix}"' for t in ("tickets", "payments", "visits", "customers"))
    config.write_text(
        f'db_path = "{tmp / suffix}.duckdb"\n'
        f'[kafka]\nbootstrap_servers = "{bootstrap}"\ngroup_id = "rejoin-{suffix}"\npartitions = 3\n'
        f"session_timeout_ms = {session_timeout_ms}\nstatic_membership = {str(static).lower()}\n"
        f"[kafka.topics]\n{topics}\n[alerts]\nenabled = false\n",
        encoding="utf-8",
    )
    ensure_topics(load_settings(config, env={}).kafka)
    log = tmp / f"{suffix}.log"
    command = [sys.executable, "-m", "customer_health.cli", "ingest", "--no-serve", "--config", str(config)]

    def start() -> subprocess.Popen:
        with log.open("a") as out:
            return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)

    first = start()
    joined_at, line = _wait_logged(log, "consuming ", 0, first, 120)
    assigned_at, line = _wait_logged(log, "assigned ", line, first, 120)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    restarted = start()
    try:
        rejoin_at, line = _wait_logged(log, "consuming ", line + 1, restarted, 120)
        reassigned_at, _ = _wait_logged(log, "assigned ", line, restarted, 120)
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(60)
    return assigned_at - joined_at, reassigned_at - rejoin_at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--session-timeout-ms", type=int, default=6000)
    parser.add_argument("--bootstrap-servers", default="")
    args = parser.parse_args()
    broker = None if args.bootstrap_servers else start_broker("127.0.0.1", free_port())
    bootstrap = broker.bootstrap_servers if broker is not None else args.bootstrap_servers
    try:
        with tempfile.TemporaryDirectory(prefix="rejoin-") as tmp:
            for static in (False, True):
                mode = "static" if static else "dynamic"
                rounds = [one_round(Path(tmp), bootstrap, static, args.session_timeout_ms)
                          for _ in range(args.rounds)]
                fresh = [r[0] for r in rounds]
                rejoin = [r[1] for r in rounds]
                print(f"{mode} membership, first join of a fresh group (s): median {statistics.median(fresh):.2f}, "
                      f"max {max(fresh):.2f}")
                print(f"{mode} membership, partitions back after kill -9 (s): median "
                      f"{statistics.median(rejoin):.2f}, max {max(rejoin):.2f} "
                      f"(session.timeout.ms {args.session_timeout_ms}, {args.rounds} rounds)")
    finally:
        if broker is not None:
            broker.stop()


if __name__ == "__main__":
    main()
