"""store = "ducklake", real engines: an alert is the group's. A pipeline killed -9 after recording its alerts
in the lake hands its customers to another pipeline, which does not raise them again, and every reader of
the lake lists them (once); what it left undelivered, the new owner delivers."""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from customer_health import sqlfiles
from customer_health.alerts.engine import SEVERITY_RANK
from customer_health.alerts.lake import LakeAlerts
from customer_health.clock import utc_now
from customer_health.config import load_settings
from customer_health.db import attach_lake
from ingest.lake import LakeLog, lake_tables
from tests.conftest import Env, produce, stop_process, wait_until
from tests.integration.test_lake_pipelines import cli, lake_config, lake_messages, simulated_events, start


def alert_config(env: Env, catalog: str) -> Path:
    """The lake pipelines' config: alerts evaluated every half second, drift read on each evaluation, table
    suites every 2 s (the simulated month is old: the topics suite's freshness expectation fails, critical)."""
    path = lake_config(env, catalog)
    text = path.read_text(encoding="utf-8").replace("[pipeline]\n", "[pipeline]\nschedule_interval_s = 2.0\n")
    path.write_text(text + "[alerts]\nevaluate_interval_s = 0.5\ndrift_interval_s = 0.0\n", encoding="utf-8")
    return path


def lake_alerts(config: Path) -> list[tuple[int, str, str, str, str]]:
    """(alert id, pipeline, source, subject, severity) of every alert recorded in the lake (none: no table)."""
    con = duckdb.connect()
    attach_lake(con, load_settings(config, env={}))
    try:
        tables = lake_tables(con)
        if "alert_log" not in tables:
            return []
        return [(int(i), str(p), str(so), str(su), str(se)) for i, p, so, su, se in con.execute(
            "select alert_id, pipeline, source, subject, severity from lake.alert_log order by alert_id").fetchall()]
    finally:
        con.close()


def wait_for_pipeline_a(lake: Path, messages: list[tuple[str, bytes, bytes]]) -> None:
    """Until pipeline A committed every message to the lake and recorded its segment and quality alerts there."""
    wait_until(lambda: len(lake_messages(lake)) == len(messages), timeout=240,
               message="every message committed to the lake by pipeline A")
    wait_until(lambda: {"segment", "quality"} <= {source for _i, _p, source, _s, _v in lake_alerts(lake)},
               timeout=120, message="pipeline A's segment and quality alerts recorded in the lake")


def test_an_alert_raised_by_a_killed_pipeline_is_not_raised_again_by_the_new_owner(
    env: Env, lake_catalog: str,
) -> None:
    env.create_topics()
    messages = simulated_events(env.tmp, customers=60, seed=7)
    lake = alert_config(env, lake_catalog)
    produce(env, messages)
    logs = [env.tmp / "a.log", env.tmp / "b.log"]
    first = start(lake, logs[0])
    second = None
    try:
        wait_for_pipeline_a(lake, messages)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(30)
        raised_by_a = lake_alerts(lake)
        second = start(lake, logs[1])
        # B's table suites fail as A's did: two runs, so that an evaluation of B read the first one's failures.
        wait_until(lambda: "alerts evaluated for " in logs[1].read_text()
                   and logs[1].read_text().count("table suites: ") >= 2, timeout=240,
                   message="pipeline B evaluated the alerts of the partitions it took over, after its table suites")
    finally:
        exit_b = stop_process(second) if second is not None else 0
    assert exit_b == 0, logs[1].read_text()[-3000:]

    alerts = lake_alerts(lake)
    a_member = {p for _i, p, _so, _su, _se in raised_by_a}
    assert len(a_member) == 1, "pipeline A alone raised the first alerts"
    by_a = {(source, subject): severity for _i, _p, source, subject, severity in raised_by_a if subject != "*"}
    again = [(source, subject, severity) for _i, pipeline, source, subject, severity in alerts
             if pipeline not in a_member and subject != "*" and (source, subject) in by_a
             and SEVERITY_RANK[severity] <= SEVERITY_RANK[by_a[(source, subject)]]]
    assert again == [], f"pipeline B raised again what pipeline A had raised: {again}"

    listed = cli(lake, "alerts", "--limit", "100000", "--json")
    assert listed.returncode == 0, listed.stderr
    ids = [row["alert_id"] for row in json.loads(listed.stdout)]
    assert len(ids) == len(set(ids)), "every alert listed once"
    assert sorted(ids) == sorted(i for i, *_ in alerts), "`alerts` on the lake lists the lake's alerts"


class Receiver:
    """A webhook receiver on a free local port: answers 503 while ``failing``, else 200; records every request
    as (X-Alert-Id, the payload's alert_id, the status answered)."""

    def __init__(self) -> None:
        self.failing = True
        self.requests: list[tuple[int, int, int]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    status = 503 if receiver.failing else 200
                    receiver.requests.append((int(self.headers["X-Alert-Id"]), int(json.loads(body)["alert_id"]),
                                              status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def delivered(self) -> set[int]:
        with self._lock:
            return {header for header, _body, status in self.requests if status == 200}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    thread = threading.Thread(target=r.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()


def lake_delivery_status(config: Path) -> dict[int, str]:
    """Every alert of the lake with its delivery status (the latest recorded webhook outcome wins)."""
    settings = load_settings(config, env={})
    con = duckdb.connect()
    attach_lake(con, settings)
    try:
        tables = lake_tables(con)
        if not {"alert_log", "alert_delivery_log"} <= tables:
            return {}
        rows = sqlfiles.Statements(con, prepare=False).rows("alerts/lake_alerts", {"group_id": settings.kafka.group_id})
        return {int(row[0]): str(row[7]) for row in rows}
    finally:
        con.close()


def test_alerts_a_killed_pipeline_left_undelivered_are_delivered_by_the_new_owner(
    env: Env, lake_catalog: str, receiver: Receiver,
) -> None:
    env.create_topics()
    messages = simulated_events(env.tmp, customers=40, seed=5)
    lake = alert_config(env, lake_catalog)
    # Pipeline A retries for as long as it lives: its deliveries are pending when it is killed.
    lake.write_text(lake.read_text(encoding="utf-8") + f'webhook_url = "{receiver.url}"\nwebhook_max_attempts = 10000\n'
                    "webhook_backoff_initial_s = 0.2\nwebhook_backoff_max_s = 0.5\n", encoding="utf-8")
    produce(env, messages)
    logs = [env.tmp / "a.log", env.tmp / "b.log"]
    first = start(lake, logs[0])
    second = None
    try:
        wait_for_pipeline_a(lake, messages)
        wait_until(lambda: receiver.requests, timeout=60, message="pipeline A's first (failed) delivery")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(30)
        pending = {i for i, status in lake_delivery_status(lake).items() if status == "pending"}
        assert pending, "pipeline A left alerts pending"
        assert not receiver.delivered(), "the receiver refused every delivery of pipeline A"
        receiver.failing = False
        second = start(lake, logs[1])
        wait_until(lambda: pending <= receiver.delivered(), timeout=300,
                   message="pipeline B delivered every alert pipeline A left pending")
        wait_until(lambda: all(lake_delivery_status(lake)[i] == "delivered" for i in pending), timeout=60,
                   message="the deliveries recorded in the lake")
    finally:
        exit_b = stop_process(second) if second is not None else 0
    assert exit_b == 0, logs[1].read_text()[-3000:]

    assert all(header == body for header, body, _status in receiver.requests), "X-Alert-Id is the payload's id"
    listed = cli(lake, "alerts", "--limit", "100000", "--json")
    assert listed.returncode == 0, listed.stderr
    status = {row["alert_id"]: row["delivery_status"] for row in json.loads(listed.stdout)}
    assert {i: status.get(i) for i in pending} == dict.fromkeys(pending, "delivered"), \
        "`alerts` on the lake shows them delivered"


def test_a_lake_alert_state_stamped_after_now_holds_no_cooldown(env: Env, lake_catalog: str) -> None:
    """A state another pipeline recorded on the model's clock (before alerts ran on the wall clock: days ahead)
    is not taken from the lake: it would hold its subject's cooldown for days. One in the window is taken."""
    settings = load_settings(lake_config(env, lake_catalog), env={})
    con = duckdb.connect()
    attach_lake(con, settings)
    try:
        lake = LakeLog(con, settings.kafka.group_id, "test-member")
        alerts = LakeAlerts(settings)
        alerts.attach(lake)
        now = utc_now()
        states = pd.DataFrame({
            "source": ["segment", "segment"], "subject": ["ahead", "recent"], "last_alert_id": [1, 2],
            "last_fired_at": [now + timedelta(days=9), now - timedelta(minutes=5)],
            "last_severity": ["warning", "warning"], "suppressed": [0, 0],
            "last_seen_at": [now + timedelta(days=9), now - timedelta(minutes=5)],
        })

        def record(lake_con: duckdb.DuckDBPyConnection) -> None:
            lake_con.register("alert_state_updates", states)
            sqlfiles.Statements(lake_con, prepare=False).run("alerts/lake_insert_state", {
                "group_id": settings.kafka.group_id, "pipeline": "older", "now": now})
        lake.commit_owned((), record)
        taken = alerts.state_since(now - timedelta(hours=1), now)
        assert [row[1] for row in taken] == ["recent"]
    finally:
        con.close()
