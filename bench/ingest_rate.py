"""Ingest benchmark: raw kafka-python consume rate vs the pipeline's landing rate, side by side in one run,
and end-to-end latency (produced -> durably landed) at a steady rate.

    .venv/bin/python bench/ingest_rate.py [--events 200000] [--steady-rate 1000] [--steady-seconds 20]

Starts its own embedded broker (Tansu) on a free port. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from kafka import KafkaConsumer, KafkaProducer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from customer_health.config import Settings  # noqa: E402
from customer_health.simulate import SimulationSettings, generate_history  # noqa: E402
from ingest.broker import ensure_topics, free_port, start_broker  # noqa: E402
from ingest.landing import BatchResult  # noqa: E402
from ingest.service import run_pipeline  # noqa: E402


def mixed_events(n: int) -> list[tuple[str, bytes, bytes]]:
    """n realistic events of all four types from the simulator (topic type, key, value)."""
    sim = SimulationSettings(customers=max(200, n // 50), seed=7, history_days=90)
    out = [(e.topic, e.key.encode(), e.value) for e in itertools.islice(generate_history(sim, datetime.now(UTC)), n)]
    if len(out) < n:
        raise SystemExit(f"the simulator produced only {len(out)} events; raise the population")
    return out


def produce_all(bootstrap: str, topics: dict[str, str], events: list[tuple[str, bytes, bytes]]) -> float:
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, batch_size=256 * 1024, acks=1)
    started = time.perf_counter()
    for event_type, key, value in events:
        producer.send(topics[event_type], key=key, value=value)
    producer.flush(120)
    producer.close()
    return len(events) / (time.perf_counter() - started)


def raw_consume_rate(settings: Settings, expected: int) -> float:
    """kafka-python poll loop that only counts records: the ceiling for the pipeline."""
    kafka = settings.kafka
    consumer = KafkaConsumer(
        *kafka.topics.by_type().values(), **kafka.client_options(), group_id=f"raw-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=settings.pipeline.batch_max_events,
        session_timeout_ms=kafka.session_timeout_ms, heartbeat_interval_ms=kafka.heartbeat_interval_ms,
        fetch_max_bytes=64 * 1024 * 1024, max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    seen, started = 0, None
    deadline = time.monotonic() + 300
    while seen < expected and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=200, max_records=settings.pipeline.batch_max_events).values():
            if started is None:
                started = time.perf_counter()
            seen += len(records)
    elapsed = time.perf_counter() - (started or time.perf_counter())
    consumer.close()
    if seen < expected:
        raise SystemExit(f"raw consumer saw {seen} of {expected} records")
    return seen / elapsed


class RunningPipeline:
    """``run_pipeline`` on a thread, with the wall clock (UTC) of each batch's commit, from its on_landed hook.

    Progress comes from the pipeline's own callbacks: the bench reads nothing while the pipeline runs.
    """

    def __init__(self, settings: Settings, plugins: bool = True) -> None:
        from ingest.service import PipelineExtensions, default_extensions

        self.settings = settings
        self.committed_at: dict[int, datetime] = {}  # batch id -> commit time
        self.messages = 0
        self._changed = threading.Condition()
        self._stop = threading.Event()

        def extensions(con: duckdb.DuckDBPyConnection, s: Settings) -> PipelineExtensions:
            ext = default_extensions(con, s) if plugins else PipelineExtensions()
            ext.on_landed.append(self._landed)
            return ext

        self._thread = threading.Thread(target=run_pipeline, args=(settings, self._stop),
                                        kwargs={"install_signal_handlers": False, "extensions": extensions})
        self._thread.start()

    def _landed(self, result: BatchResult) -> None:
        with self._changed:
            self.committed_at[result.batch_id] = datetime.now(UTC).replace(tzinfo=None)
            self.messages += result.messages
            self._changed.notify_all()

    def wait_for(self, messages: int, timeout: float) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self.messages >= messages or not self._thread.is_alive(), timeout)
        if self.messages < messages:
            raise SystemExit(f"the pipeline landed {self.messages} of {messages} messages")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def pipeline_rate(settings: Settings, expected: int, plugins: bool = True) -> tuple[float, int]:
    """Events durably landed in DuckDB per second, from the first batch's start to the last commit.

    ``plugins``: with the product's per-batch plug-ins (batch quality suites, health refresh, churn scoring,
    alerts), as ``customer-health ingest`` runs; without them, the landing path alone.
    """
    pipeline = RunningPipeline(settings, plugins)
    try:
        pipeline.wait_for(expected, timeout=600)
    finally:
        pipeline.stop()
    with duckdb.connect(str(settings.db_path), read_only=True) as con:
        messages, first, batches, avg_size = con.execute(
            "select sum(messages), min(started_at), count(*), avg(messages) from ingest_batches").fetchone()
    wall = (max(pipeline.committed_at.values()) - first).total_seconds()
    print(f"pipeline {'with' if plugins else 'without'} plug-ins: {batches} batches of {avg_size:,.0f} events "
          f"on average in {wall:.1f} s")
    return messages / wall, int(messages)


def steady_latency(settings: Settings, rate: int, seconds: int) -> tuple[float, float, int]:
    """p50/p95 of produced -> committed in DuckDB (ms) for visits sent at a steady rate; the send time rides
    in an extra field, which the contract keeps."""
    pipeline = RunningPipeline(settings)
    try:
        producer = KafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, linger_ms=0, acks=1)
        topic = settings.kafka.topics.visits
        time.sleep(6)  # let the consumer join its group before the clock starts
        total = rate * seconds
        started = time.perf_counter()
        for i in range(total):
            target = started + i / rate
            delay = target - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent_ms = time.time() * 1000
            event = {"event_id": f"lat-{i}", "customer_id": f"c{i % 500}",
                     "occurred_at": datetime.now(UTC).isoformat(), "session_id": f"s{i}", "channel": "web",
                     "duration_seconds": 30, "bench_sent_at_ms": sent_ms}
            producer.send(topic, key=event["customer_id"].encode(), value=json.dumps(event).encode())
        producer.flush()
        pipeline.wait_for(total, timeout=120)
    finally:
        pipeline.stop()
    epoch = datetime(1970, 1, 1)
    with duckdb.connect(str(settings.db_path), read_only=True) as con:
        latencies = [
            (pipeline.committed_at[batch_id] - epoch).total_seconds() * 1000 - sent_ms
            for batch_id, sent_ms in con.execute(
                "select batch_id, (extra ->> 'bench_sent_at_ms')::double from visits where event_id like 'lat-%'"
            ).fetchall()
        ]
    q = statistics.quantiles(latencies, n=100)
    return q[49], q[94], len(latencies)


def settings_for(tmp: Path, bootstrap: str, name: str) -> Settings:
    suffix = uuid.uuid4().hex[:8]
    settings = Settings(db_path=tmp / f"{name}.duckdb").with_overrides(
        kafka__bootstrap_servers=bootstrap, kafka__group_id=f"bench-{suffix}", quack__port=free_port(),
    )
    from dataclasses import replace

    topics = replace(settings.kafka.topics, **{t: f"{t}-{suffix}" for t in settings.kafka.topics.by_type()})
    return settings.with_overrides(kafka__topics=topics)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--steady-rate", type=int, default=1000)
    parser.add_argument("--steady-seconds", type=int, default=20)
    parser.add_argument("--batch-events", type=int, default=None, help="pipeline.batch_max_events override")
    parser.add_argument("--duckdb-threads", type=int, default=None,
                        help="pipeline.duckdb_threads override (0: automatic)")
    args = parser.parse_args()
    broker = start_broker("127.0.0.1", free_port())
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = settings_for(Path(tmp), broker.bootstrap_servers, "throughput")
            if args.batch_events:
                settings = settings.with_overrides(pipeline__batch_max_events=args.batch_events)
            if args.duckdb_threads is not None:
                settings = settings.with_overrides(pipeline__duckdb_threads=args.duckdb_threads)
            ensure_topics(settings.kafka)
            events = mixed_events(args.events)
            produced = produce_all(broker.bootstrap_servers, settings.kafka.topics.by_type(), events)
            raw = raw_consume_rate(settings, len(events))
            landed, messages = pipeline_rate(settings, len(events))
            bare = settings_for(Path(tmp), broker.bootstrap_servers, "bare").with_overrides(
                kafka__topics=settings.kafka.topics, pipeline=settings.pipeline)
            bare_landed, _ = pipeline_rate(bare, len(events), plugins=False)
            print(f"events: {messages:,} mixed (tickets, payments, visits, customers), 3 partitions per topic; "
                  f"DuckDB threads {settings.pipeline.threads(os.cpu_count())} of {os.cpu_count()} cores")
            print(f"produce rate:             {produced:10,.0f} events/s")
            print(f"raw consume rate:         {raw:10,.0f} events/s")
            print(f"pipeline landing rate:    {landed:10,.0f} events/s (durably committed in DuckDB, with plug-ins)")
            print(f"ratio landing / raw:      {landed / raw:10.2f}   (goal >= 0.90)")
            print(f"landing path alone:       {bare_landed:10,.0f} events/s, ratio {bare_landed / raw:.2f} "
                  "(no quality, health, churn or alert plug-ins)")
            steady = settings_for(Path(tmp), broker.bootstrap_servers, "latency")
            ensure_topics(steady.kafka)
            p50, p95, n = steady_latency(steady, args.steady_rate, args.steady_seconds)
            print(f"latency at {args.steady_rate:,}/s ({n:,} events): p50 {p50:,.0f} ms, p95 {p95:,.0f} ms "
                  "(produced -> committed in DuckDB)")
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
