"""The demo's process handling and its checks before it starts anything (no broker needed)."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from customer_health.config import Settings, load_settings
from customer_health.db import open_owner
from customer_health.demo import Child, Demo, DemoOptions, state_path
from customer_health.errors import UserError

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups and /proc")


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def started(tmp_path: Path, script: str) -> Child:
    child = Child("test", ["sh", "-c", script], tmp_path / "logs" / "test.log", dict(os.environ))
    child.start()
    deadline = time.monotonic() + 5
    while len(group_members(child.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    return child


def test_a_child_runs_in_its_own_process_group_and_stops_with_its_grandchildren(tmp_path: Path) -> None:
    child = started(tmp_path, "sleep 60 & sleep 60; wait")
    assert os.getpgid(child.pid) == child.pid != os.getpgid(0)
    assert len(group_members(child.pid)) >= 2
    child.stop(grace_s=5)
    assert group_members(child.pid) == []
    assert child.exit_code() == -signal.SIGTERM


def test_a_child_that_ignores_sigterm_is_killed_after_its_grace_period(tmp_path: Path) -> None:
    child = started(tmp_path, "trap '' TERM; sleep 60 & sleep 60; wait")
    began = time.monotonic()
    child.stop(grace_s=0.5)
    assert time.monotonic() - began < 5
    assert group_members(child.pid) == []
    assert child.exit_code() == -signal.SIGKILL
    assert "sleep 60" in child.log_path.read_text()  # the command line heads its log


def settings_in(tmp_path: Path) -> Settings:
    return Settings(db_path=tmp_path / "demo.duckdb")


def test_a_fresh_database_gets_the_whole_history(tmp_path: Path) -> None:
    assert Demo(settings_in(tmp_path), DemoOptions())._prepare() is None


def test_a_database_with_events_the_demo_did_not_create_is_refused(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    con = open_owner(settings)
    con.execute("insert into visits (event_id, customer_id, occurred_at, session_id, channel, duration_seconds, "
                "batch_id) values ('v1', 'c1', timestamp '2026-01-01 10:00:00', 's1', 'web', 30, 1)")
    con.close()
    with pytest.raises(UserError, match="events the demo did not create"):
        Demo(settings, DemoOptions())._prepare()
    state_path(settings.db_path).write_text(json.dumps({"seed": 42, "customers": 500, "last_event_at": None}))
    since = Demo(settings, DemoOptions())._prepare()
    assert since is not None and since.isoformat() == "2026-01-01T10:00:00+00:00"  # history resumes here
    with pytest.raises(UserError, match="seed 42 with 500 customers"):
        Demo(settings, DemoOptions(customers=100))._prepare()


def test_a_database_served_by_a_running_pipeline_is_refused(tmp_path: Path) -> None:
    import socket

    settings = settings_in(tmp_path)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        endpoint = settings.db_path.with_name(settings.db_path.name + ".quack.json")
        endpoint.write_text(json.dumps({"uri": f"quack:127.0.0.1:{port}", "pid": os.getpid()}))
        with pytest.raises(UserError, match="already serves"):
            Demo(settings, DemoOptions())._prepare()
    assert Demo(settings, DemoOptions())._prepare() is None  # a stale endpoint file is not a pipeline


def test_the_demo_s_children_run_on_the_events_clock_and_accept_its_simulated_future(tmp_path: Path) -> None:
    """The simulated clock runs days ahead of the wall clock: the model's now follows the events, and the
    batch suites allow ten wall minutes of the live world's clock beyond the model's clock."""
    def children(days_per_minute: float) -> Settings:
        env = Demo(Settings(db_path=tmp_path / "d.duckdb"), DemoOptions(days_per_minute=days_per_minute))._env(15432)
        return load_settings(None, env={k: v for k, v in env.items() if k.startswith("CUSTOMER_HEALTH_")})

    assert children(1.0).clock.source == "events"
    assert children(1.0).quality.future_tolerance_minutes == 10 * 24 * 60  # 10 simulated days
    assert children(60.0).quality.future_tolerance_minutes == 600 * 24 * 60
    assert Settings().clock.source == "wall"  # outside the demo nothing changes
