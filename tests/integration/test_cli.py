"""The command line: one-line errors, the embedded broker command."""

from __future__ import annotations

import signal
import subprocess
import sys

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from ingest.broker import free_port, port_open
from tests.conftest import REPO, wait_until


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "customer_health.cli", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=60)


def test_bad_arguments_and_config_are_one_line_and_non_zero(tmp_path) -> None:
    bad_config = tmp_path / "c.toml"
    bad_config.write_text("[pipeline]\nbatch_max_events = 'lots'\n")
    for result in [
        run("status", "--config", str(bad_config)),
        run("status", "--db", str(tmp_path / "missing.duckdb")),
        run("load", "--bootstrap-servers", "nohostport", str(tmp_path / "x.jsonl")),
        run("no-such-command"),
    ]:
        assert result.returncode != 0
        assert result.stderr.count("\n") == 1, result.stderr
        assert "Traceback" not in result.stderr


def test_broker_command_serves_kafka_until_sigterm() -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "customer_health.cli", "broker", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert "broker listening on" in proc.stdout.readline()
        servers = f"127.0.0.1:{port}"
        producer = KafkaProducer(bootstrap_servers=servers)
        producer.send("visits", b"hello").get(timeout=30)
        producer.close()
        consumer = KafkaConsumer(bootstrap_servers=servers, consumer_timeout_ms=10_000)
        consumer.assign([TopicPartition("visits", p) for p in consumer.partitions_for_topic("visits")])
        consumer.seek_to_beginning()
        assert [r.value for r in consumer] == [b"hello"]
        consumer.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    wait_until(lambda: not port_open("127.0.0.1", port), timeout=10, message="broker port released")
