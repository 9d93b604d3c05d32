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


def piped_to_head(*args: str) -> tuple[int, str, str]:
    """Run the CLI with its stdout piped into `head -1`; returns (the CLI's exit code, its stderr, what head
    printed)."""
    cli = subprocess.Popen([sys.executable, "-m", "customer_health.cli", *args], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, cwd=REPO)
    head = subprocess.Popen(["head", "-1"], stdin=cli.stdout, stdout=subprocess.PIPE)
    assert cli.stdout is not None and cli.stderr is not None
    cli.stdout.close()  # head holds the only read end: when it exits, the CLI's writes fail with EPIPE
    printed, _ = head.communicate(timeout=60)
    err = cli.stderr.read().decode()
    return cli.wait(timeout=60), err, printed.decode()


def test_a_reader_closing_the_pipe_ends_the_listing_quietly_with_success(tmp_path) -> None:
    db = tmp_path / "health.duckdb"
    assert run("simulate", "--customers", "1500", "--history-days", "10", "--no-live", "--jsonl",
               str(tmp_path / "events"), "--db", str(db)).returncode == 0
    load = run("load", *(str(p) for p in sorted((tmp_path / "events").glob("*.jsonl"))), "--db", str(db))
    assert load.returncode == 0, load.stderr
    first = run("customers", "--db", str(db), "--limit", "1").stdout.splitlines()[1].split()[0]
    for args in (("customers",), ("customer", first), ("portfolio", "--points", "3000")):
        code, err, printed = piped_to_head(*args, "--db", str(db))
        assert printed.count("\n") == 1
        assert (code, err) == (0, ""), args
