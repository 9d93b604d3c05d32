"""Shared fixtures: a real Kafka-protocol broker (Tansu on a free port, or $KAFKA_BOOTSTRAP_SERVERS),
per-test topics and consumer groups, config files and pipeline processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kafka import KafkaProducer

from customer_health.config import Settings, load_settings
from ingest.broker import EmbeddedBroker, ensure_topics, free_port, start_broker
from tests.pg import PostgresServer, pg_bin, start_postgres

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def bootstrap_servers() -> Iterator[str]:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    broker: EmbeddedBroker = start_broker("127.0.0.1", free_port())
    try:
        yield broker.bootstrap_servers
    finally:
        broker.stop()


def wait_until(predicate: Callable[[], object], timeout: float = 120.0, interval: float = 0.2,
               message: str = "condition") -> object:
    """Poll until predicate() is truthy; fail with `message` at the deadline (never a bare sleep)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {message} (last: {last!r})")


@dataclass
class Env:
    """One test's isolated world: its topics, consumer group, database and config file."""

    tmp: Path
    bootstrap_servers: str
    suffix: str
    quack_port: int

    @property
    def topics(self) -> dict[str, str]:
        return {t: f"{t}-{self.suffix}" for t in ("tickets", "payments", "visits", "customers")}

    @property
    def db_path(self) -> Path:
        return self.tmp / "health.duckdb"

    @property
    def config_path(self) -> Path:
        path = self.tmp / "config.toml"
        if not path.exists():
            topics = "\n".join(f'{k} = "{v}"' for k, v in self.topics.items())
            path.write_text(
                f'db_path = "{self.db_path}"\n'
                f"[kafka]\nbootstrap_servers = \"{self.bootstrap_servers}\"\n"
                f'group_id = "g-{self.suffix}"\npartitions = 3\n'
                f"[kafka.topics]\n{topics}\n"
                f"[pipeline]\nbatch_max_events = 500\nbatch_max_wait_ms = 100\nmax_message_bytes = 4096\n"
                f"[quack]\nport = {self.quack_port}\n",
                encoding="utf-8",
            )
        return path

    def settings(self) -> Settings:
        return load_settings(self.config_path, env={})

    def create_topics(self) -> None:
        ensure_topics(self.settings().kafka)

    def producer(self) -> KafkaProducer:
        return KafkaProducer(bootstrap_servers=self.bootstrap_servers, linger_ms=5, acks=1)

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "customer_health.cli", *args, "--config", str(self.config_path)],
            capture_output=True, text=True, timeout=timeout, cwd=REPO,
        )

    def start_pipeline(self, *extra: str) -> subprocess.Popen[str]:
        log = (self.tmp / "pipeline.log").open("a")
        return subprocess.Popen(
            [sys.executable, "-m", "customer_health.cli", "ingest", "--config", str(self.config_path), *extra],
            stdout=log, stderr=subprocess.STDOUT, text=True, cwd=REPO,
        )

    def pipeline_log(self) -> str:
        path = self.tmp / "pipeline.log"
        return path.read_text() if path.exists() else ""

    def status(self) -> dict:
        result = self.cli("status", "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture
def env(tmp_path: Path, bootstrap_servers: str) -> Env:
    return Env(tmp_path, bootstrap_servers, uuid.uuid4().hex[:10], free_port())


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
    return proc.wait(timeout)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the session (tests/pg.py); skipped where PostgreSQL is not installed."""
    if pg_bin() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql, as .ci/run does)")
    yield from start_postgres()


@pytest.fixture
def lake_catalog(postgres: PostgresServer) -> str:
    """A fresh, empty catalog database on the session's server: its DuckLake catalog string."""
    return postgres.createdb(f"lake_{uuid.uuid4().hex[:10]}")


def produce(env: Env, messages: list[tuple[str, bytes, bytes]]) -> None:
    """(event type, key, value) in order, flushed."""
    producer = env.producer()
    for event_type, key, value in messages:
        producer.send(env.topics[event_type], key=key, value=value)
    producer.flush(30)
    producer.close()
