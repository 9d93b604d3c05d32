"""Where simulated events go: JSONL files per topic, or Kafka."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol

from .settings import TOPICS, SimEvent

EventLike = SimEvent | tuple[datetime, SimEvent]


class Producer(Protocol):
    """The part of kafka-python's ``KafkaProducer`` that :func:`produce` uses."""

    def send(self, topic: str, value: bytes | None = None, key: bytes | None = None) -> Any: ...

    def flush(self, timeout: float | None = None) -> None: ...


def write_jsonl(events: Iterable[EventLike], directory: str | Path) -> dict[str, Path]:
    """Write each event's value as one line of ``<directory>/<topic>.jsonl``; returns topic -> path.

    Accepts plain events or the ``(time, event)`` pairs of ``generate_live`` (which is endless:
    bound it, e.g. with ``itertools.islice``). Files for the four contract topics are always
    created (possibly empty) and overwritten. Values are written byte for byte, so invalid
    messages stay invalid; no value contains a newline.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    with ExitStack() as stack:
        files: dict[str, IO[bytes]] = {}

        def open_topic(topic: str) -> IO[bytes]:
            paths[topic] = directory / f"{topic}.jsonl"
            files[topic] = stack.enter_context(paths[topic].open("wb"))
            return files[topic]

        for topic in TOPICS:
            open_topic(topic)
        for item in events:
            event = item[1] if isinstance(item, tuple) else item
            out = files.get(event.topic) or open_topic(event.topic)
            out.write(event.value)
            out.write(b"\n")
    return paths


def produce(
    events: Iterable[EventLike],
    producer: Producer,
    topics: Mapping[str, str],
    *,
    rate_per_second: float | None = None,
    speed: float = 1.0,
    stop: threading.Event | None = None,
) -> int:
    """Send events to Kafka (key = customer_id, UTF-8); returns how many were sent.

    ``topics`` maps the logical topic (tickets, payments, visits, customers) to the Kafka topic;
    a logical topic missing from it is sent under its own name. Pacing: ``(time, event)`` pairs
    go out when ``(time - first time) / speed`` wall seconds have passed; ``rate_per_second``
    additionally caps the send rate (for plain events it is the only pacing; None = as fast as
    possible). Setting ``stop`` ends the loop before the next send, within one sleep slice.
    The producer is flushed before returning, also when stopped.
    """
    if speed <= 0:
        raise ValueError("speed must be > 0")
    if rate_per_second is not None and rate_per_second <= 0:
        raise ValueError("rate_per_second must be > 0")
    stop = stop or threading.Event()
    interval = 1.0 / rate_per_second if rate_per_second else 0.0  # wall seconds between sends
    sent = 0
    wall_start = time.monotonic()
    sim_start: float | None = None
    try:
        for item in events:
            if stop.is_set():
                break
            due = wall_start + sent * interval
            if isinstance(item, tuple):
                moment, event = item
                ts = moment.timestamp()
                if sim_start is None:
                    sim_start = ts
                due = max(due, wall_start + (ts - sim_start) / speed)
            else:
                event = item
            delay = due - time.monotonic()
            if delay > 0.001 and stop.wait(delay):
                break
            producer.send(topics.get(event.topic, event.topic), value=event.value, key=event.key.encode())
            sent += 1
    finally:
        producer.flush()
    return sent
