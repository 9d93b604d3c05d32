"""`customer-health demo` end to end: child processes start, events land, SIGTERM leaves no process behind,
and a second run continues the same database without duplicates or a second history."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from customer_health.demo import state_path
from customer_health.vocabulary import SEGMENTS
from ingest.broker import free_port
from tests.conftest import REPO, wait_until

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for the process tree")

LANDED = re.compile(r"landed ([\d,]+) events")
MIX = re.compile(r"segments: ([^;]*); drifting ([\d,]+)")
MODEL_TIME = re.compile(r"model time (\d{4}-\d\d-\d\d \d\d:\d\d) UTC")


class DemoRun:
    """A `customer-health demo` process whose stdout is collected line by line."""

    def __init__(self, tmp: Path, *extra: str) -> None:
        config = tmp / "demo.toml"
        if not config.exists():
            config.write_text(f"[quack]\nport = {free_port()}\n[pipeline]\nbatch_max_wait_ms = 100\n"
                              "[alerts]\nevaluate_interval_s = 1.0\n")
        self.db = tmp / "demo.duckdb"
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "customer_health.cli", "demo", "--db", str(self.db), "--config", str(config),
             "--customers", "60", "--history-days", "14", "--rate", "40", "--status-interval", "1",
             "--broker-port", str(free_port()), *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO,
            env={k: v for k, v in os.environ.items() if not k.startswith(("CUSTOMER_HEALTH_", "KAFKA_"))},
        )
        self._reader = threading.Thread(target=self._collect, daemon=True)
        self._reader.start()

    def _collect(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def landed(self) -> int:
        counts = [int(m.group(1).replace(",", "")) for line in self.lines if (m := LANDED.search(line))]
        return counts[-1] if counts else 0

    def wait_for_landed_above(self, n: int, timeout: float = 60) -> int:
        def check() -> int:
            assert self.process.poll() is None, f"the demo exited early:\n{self.output()}"
            return self.landed() > n and self.landed()

        return int(wait_until(check, timeout=timeout, message=f"more than {n} events landed"))

    def mix(self) -> tuple[dict[str, int], int]:
        """The last status line's customers per segment, and how many drift toward a bad one."""
        for line in reversed(self.lines):
            if m := MIX.search(line):
                counts = dict(item.rsplit(" ", 1) for item in m.group(1).split(", "))
                return {k: int(v.replace(",", "")) for k, v in counts.items()}, int(m.group(2).replace(",", ""))
        return {}, 0

    def model_times(self) -> list[datetime]:
        """The model's time of every status line so far."""
        return [datetime.fromisoformat(m.group(1)) for line in self.lines if (m := MODEL_TIME.search(line))]

    def descendants(self) -> set[int]:
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
        found: set[int] = set()
        todo = [self.process.pid]
        while todo:
            for child in children.get(todo.pop(), []):
                found.add(child)
                todo.append(child)
        return found

    def terminate(self, timeout: float = 60) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def events_by_tag(db: Path) -> dict[str, int]:
    """Stored events per id tag: ``<seed>h<epoch>`` (a history run) or ``<seed>l<epoch>`` (a live run)."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select split_part(event_id, '-', 1), count(*) from (select event_id from tickets union all "
            "select event_id from payments union all select event_id from visits union all "
            "select event_id from customer_events) group by all"
        ).fetchall()
    return dict(rows)


def duplicates(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return int(con.execute("select coalesce(sum(duplicates), 0) from ingest_batches").fetchone()[0])


def test_demo_runs_stops_cleanly_and_a_second_run_continues_the_data(tmp_path: Path) -> None:
    first = DemoRun(tmp_path)
    try:
        wait_until(lambda: "Ctrl-C to stop" in first.output() or first.process.poll() is not None, timeout=60,
                   message="the demo to start its children")
        assert first.process.poll() is None, first.output()
        assert re.search(r"dashboard\s+http://127\.0\.0\.1:\d+", first.output()), first.output()
        history = first.wait_for_landed_above(0)
        first.wait_for_landed_above(history)  # live events keep landing after the history

        def ahead_of_the_wall_clock() -> bool:  # the live world's clock overtakes the wall clock
            assert first.process.poll() is None, f"the demo exited early:\n{first.output()}"
            times = first.model_times()
            return bool(times) and times[-1] > datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=1)

        wait_until(ahead_of_the_wall_clock, timeout=60, message="the model's clock an hour ahead of the wall clock")
        # `check` beside the demo, as a user runs it (no demo environment): the demo pipeline's verdict.
        beside = subprocess.run(
            [sys.executable, "-m", "customer_health.cli", "check", "--db", str(first.db), "--no-store",
             *[arg for suite in ("tickets", "payments", "visits", "customers", "topics")
               for arg in ("--suite", suite)]],
            capture_output=True, text=True, timeout=120, cwd=REPO, check=False,
            env={k: v for k, v in os.environ.items() if not k.startswith(("CUSTOMER_HEALTH_", "KAFKA_"))},
        )
        assert beside.returncode == 0, beside.stdout + beside.stderr
        processes = first.descendants()
        names = {Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode() for pid in processes}
        assert sum(" -m customer_health.cli " in n for n in names) == 4, names
        assert any("tansu" in n for n in names), names
    finally:
        code = first.terminate()
    assert code == 0, first.output()
    assert "stopped; the data stays in" in first.output()
    left = [pid for pid in processes if alive(pid)]
    assert not left, f"processes left after SIGTERM: {left}"
    assert state_path(first.db).exists()
    with duckdb.connect(str(first.db), read_only=True) as con:  # batches landed all along: never stale
        assert con.execute("select count(*) from alerts where subject = 'staleness'").fetchone() == (0,)
        assert con.execute("select count(*) from quarantine where list_contains(expectations, "
                           "'expect_column_values_to_be_between(minutes_ahead_of_now)')").fetchone() == (0,)

    after_first = events_by_tag(first.db)
    history_tags = [t for t in after_first if "h" in t]
    assert len(history_tags) == 1
    history_events = after_first[history_tags[0]]

    second = DemoRun(tmp_path, "--no-dashboard")
    try:
        wait_until(lambda: "continuing the stored data" in second.output() or second.process.poll() is not None,
                   timeout=60, message="the second run to continue the stored data")
        second.wait_for_landed_above(sum(after_first.values()) + 40)
    finally:
        assert second.terminate() == 0, second.output()
    after_second = events_by_tag(second.db)
    new_tags = set(after_second) - set(after_first)
    assert any("l" in t for t in new_tags), after_second  # live events of the second run, under new ids
    gap_history = sum(after_second[t] for t in new_tags if "h" in t)
    assert gap_history < history_events / 10, (gap_history, history_events)  # the gap, not the history again
    assert all(after_second[t] == n for t, n in after_first.items())  # nothing of the first run was touched
    assert duplicates(second.db) == 0


def test_the_demo_at_its_defaults_fills_every_segment_and_shows_customers_drifting(tmp_path: Path) -> None:
    """The issue's promise for the first minute, at the demo's default population and history (the time it
    took is a benchmark figure, not asserted here): a history landed at once drifts at once."""
    run = DemoRun(tmp_path, "--no-dashboard", "--customers", "500", "--history-days", "90", "--rate", "50")
    try:
        def shown() -> bool:
            assert run.process.poll() is None, f"the demo exited early:\n{run.output()}"
            segments, drifting = run.mix()
            return all(segments.get(s, 0) > 0 for s in SEGMENTS) and drifting > 0

        wait_until(shown, timeout=180, message="every segment populated and customers drifting")
        first = run.model_times()[-1]

        def next_day() -> bool:  # a simulated day a minute: a UTC day boundary passes within about a minute
            assert run.process.poll() is None, f"the demo exited early:\n{run.output()}"
            return run.model_times()[-1].date() > first.date()

        wait_until(next_day, timeout=120, message="the model's clock to pass a day boundary")
    finally:
        assert run.terminate() == 0, run.output()
    with duckdb.connect(str(run.db), read_only=True) as con:  # the day's rollover ran at the model's time
        (rollovers,) = con.execute("select count(*) from health_refreshes where reason = 'day_rollover' "
                                   "and as_of::date > ?", [first.date()]).fetchone()
    assert rollovers >= 1
