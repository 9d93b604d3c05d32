"""`customer-health status` against a real broker: lag is read from the broker, failures are reported."""

from __future__ import annotations

import json
from pathlib import Path

from ingest.broker import free_port
from tests.conftest import Env, stop_process, wait_until
from tests.factories import encode, visit
from tests.integration.test_ingest_kafka import good_messages, landed_total, produce


def test_status_reads_lag_from_the_broker_while_the_pipeline_is_stopped(env: Env) -> None:
    env.create_topics()
    produce(env, good_messages(25))
    proc = env.start_pipeline()
    try:
        wait_until(lambda: landed_total(env) == 100, message="first 100 landed")
    finally:
        assert stop_process(proc) == 0, env.pipeline_log()
    produce(env, good_messages(250, prefix="waiting"))
    lag = env.status()["lag"]
    assert lag["source"] == "broker", lag
    assert "broker_error" not in lag
    # 1,000 wait. Tansu's end offsets run below the records it holds (by up to a producer batch per
    # partition, 730 seen here): approximate, never exact.
    assert 500 < lag["total"] <= 1000, lag
    assert len(lag["partitions"]) == 12 and all(n >= 0 for n in lag["partitions"].values())


def test_status_reports_why_the_broker_was_not_read(env: Env) -> None:
    env.create_topics()
    produce(env, good_messages(5))
    proc = env.start_pipeline()
    try:
        wait_until(lambda: landed_total(env) == 20, message="landed")
    finally:
        assert stop_process(proc) == 0, env.pipeline_log()
    unreachable = f"127.0.0.1:{free_port()}"
    result = env.cli("status", "--json", "--bootstrap-servers", unreachable)
    assert result.returncode == 0, result.stderr
    lag = json.loads(result.stdout)["lag"]
    assert lag["source"] == "recorded"
    assert unreachable in lag["broker_error"] and "KafkaTimeoutError" in lag["broker_error"]
    assert unreachable in result.stderr
    text = env.cli("status", "--bootstrap-servers", unreachable)
    assert f"broker not read: {unreachable}" in text.stdout


def test_a_broker_that_cannot_be_read_is_one_line_on_stderr(env: Env, tmp_path: Path) -> None:
    events = tmp_path / "visits.jsonl"
    events.write_bytes(encode(visit("v1")) + b"\n")
    assert env.cli("load", str(events)).returncode == 0  # a database fed by files only: no broker was ever read
    unreachable = f"127.0.0.1:{free_port()}"
    result = env.cli("status", "--bootstrap-servers", unreachable)
    assert result.returncode == 0, result.stderr
    assert f"broker not read: {unreachable}: KafkaTimeoutError: Unable to bootstrap" in result.stdout
    assert result.stderr.count("\n") == 1 and "could not read end offsets" in result.stderr, result.stderr
