"""Long commands (`load`, `simulate`) show their progress on a terminal and nothing when not on one."""

from __future__ import annotations

import io
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from customer_health.progress import progress
from tests.conftest import REPO

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_on_terminal(*args: str, columns: int = 200) -> tuple[int, str, str]:
    """The CLI with stderr on a pseudo-terminal; returns (exit code, stdout, what the terminal showed)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "customer_health.cli", *args], stdout=subprocess.PIPE,
                            stderr=slave, cwd=REPO, env=dict(os.environ, COLUMNS=str(columns), TERM="xterm"))
    os.close(slave)
    shown = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    out = proc.stdout.read().decode() if proc.stdout else ""
    code = proc.wait(timeout=120)
    os.close(master)
    return code, out, ANSI.sub("", shown.decode("utf-8", "replace"))


def simulate_args(tmp_path: Path) -> list[str]:
    return ["simulate", "--customers", "50", "--history-days", "5", "--no-live", "--jsonl", str(tmp_path / "ev"),
            "--db", str(tmp_path / "x.duckdb")]


def test_simulate_and_load_show_progress_on_a_terminal(tmp_path: Path) -> None:
    code, out, shown = run_on_terminal(*simulate_args(tmp_path))
    assert code == 0 and "history" in out
    assert re.search(r"writing events to .* [\d,]+ events .*events/s.* 0:00:\d\d", shown), shown
    files = [str(p) for p in sorted((tmp_path / "ev").glob("*.jsonl"))]
    code, out, shown = run_on_terminal("load", *files, "--db", str(tmp_path / "x.duckdb"))
    assert code == 0 and "landed" in out
    assert re.search(r"loading [\d,]+ rows .*rows/s.* 0:00:\d\d .*landed [\d,]+ .*dead-lettered \d", shown), shown


def test_not_on_a_terminal_there_is_no_progress(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "customer_health.cli", *simulate_args(tmp_path)],
                          capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0 and "events/s" not in done.stderr and "\r" not in done.stderr
    stream = io.StringIO()
    with progress("loading", stream=stream) as shown:
        shown.advance(10)
        shown.update(20, landed=20)
    assert stream.getvalue() == ""


def test_log_lines_during_a_load_are_printed_above_the_progress_not_glued_to_it(tmp_path: Path) -> None:
    path = tmp_path / "visits.jsonl"
    path.write_bytes(b'{"event_id": "v1"}\n')  # dead-lettered: the lander logs a warning while the bar is shown
    code, out, shown = run_on_terminal("load", str(path), "--db", str(tmp_path / "x.duckdb"))
    assert code == 0 and "1 dead-lettered" in out
    lines = re.split(r"[\r\n]+", shown)
    assert any(re.fullmatch(rf"\S+ \S+ WARNING ingest\.landing: batch 1 from file:{re.escape(str(path))}: 1 of 1 "
                            r"messages dead-lettered", line) for line in lines), shown
    assert not [line for line in lines if "rows/s" in line and "WARNING" in line], shown


def test_on_an_80_column_terminal_the_load_progress_keeps_its_rate_time_and_every_count(tmp_path: Path) -> None:
    path = tmp_path / "visits.jsonl"
    path.write_bytes(b'{"event_id": "v1"}\n')
    code, out, shown = run_on_terminal("load", str(path), "--db", str(tmp_path / "x.duckdb"), columns=80)
    assert code == 0 and "1 dead-lettered" in out
    final = " ".join(shown[shown.rindex("loading 1 rows"):].split("health and history")[0].split())
    assert re.fullmatch(r"loading 1 rows \d+ rows/s 0:00:\d\d landed 0 duplicates 0 dead-lettered 1 quarantined 0",
                        final), final
