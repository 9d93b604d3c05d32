"""Ingest benchmark: raw kafka-python consume rate vs the pipeline's landing rate, side by side in one run,
and end-to-end latency (produced -> durably landed) at a steady rate. Also the CPU each event costs, by
thread (Linux /proc), and the highest landing / raw ratio those costs allow on this machine's cores.

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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from kafka import KafkaConsumer, KafkaProducer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from customer_health.clock import utc_now  # noqa: E402
from customer_health.config import Settings  # noqa: E402
from customer_health.simulate import SimulationSettings, generate_history  # noqa: E402
from ingest.broker import ensure_topics, free_port, start_broker  # noqa: E402
from ingest.consumer import PipelineStats  # noqa: E402
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


def raw_consume_rate(settings: Settings, expected: int, cpu: CpuSampler) -> tuple[float, CpuShare]:
    """kafka-python poll loop that only counts records: the ceiling for the pipeline. Also its CPU per record."""
    kafka = settings.kafka
    consumer = KafkaConsumer(
        *kafka.topics.by_type().values(), **kafka.client_options(), group_id=f"raw-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=settings.pipeline.batch_max_events,
        session_timeout_ms=kafka.session_timeout_ms, heartbeat_interval_ms=kafka.heartbeat_interval_ms,
        fetch_max_bytes=64 * 1024 * 1024, max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    # The clock starts when the first poll that returns records starts (as the pipeline's does): that poll
    # fetches and decodes its records, and the polls before it only join the group.
    seen, started, first_at = 0, None, None
    deadline = time.monotonic() + 300
    while seen < expected and time.monotonic() < deadline:
        poll_started, poll_started_at = time.perf_counter(), utc_now()
        polled = consumer.poll(timeout_ms=200, max_records=settings.pipeline.batch_max_events)
        if polled and started is None:
            started, first_at = poll_started, poll_started_at
        seen += sum(len(records) for records in polled.values())
    elapsed = time.perf_counter() - (started or time.perf_counter())
    end = cpu.sample()
    consumer.close()
    if seen < expected:
        raise SystemExit(f"raw consumer saw {seen} of {expected} records")
    return seen / elapsed, cpu.share(first_at, end, seen, {threading.get_native_id(): "consumer"})


@dataclass(frozen=True)
class CpuShare:
    """CPU seconds per event (user + system) over a measured window, by thread group, and the broker's."""

    by_group: dict[str, float]
    broker: float

    @property
    def total(self) -> float:
        return sum(self.by_group.values()) + self.broker

    def describe(self) -> str:
        parts = [f"{group} {seconds * 1e6:.1f}" for group, seconds in self.by_group.items()]
        return f"{self.total * 1e6:5.1f} us ({', '.join(parts)}, broker {self.broker * 1e6:.1f})"


@dataclass(frozen=True)
class CpuSample:
    at: datetime  # UTC
    threads: dict[int, float]  # native thread id -> CPU seconds
    process: float  # CPU seconds of this process, ended threads included
    broker: float


@dataclass
class CpuSampler:
    """Samples the CPU time of this process's threads and of the broker process from /proc (Linux), every
    ``interval_s``, so the CPU spent since a past moment can be read without touching the code under
    measurement. Clock ticks are 10 ms: windows of seconds give figures to about 1 %."""

    broker_pid: int
    interval_s: float = 0.05
    _samples: list[CpuSample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> CpuSampler:
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._samples.append(self.sample())
            self._stop.wait(self.interval_s)

    def sample(self) -> CpuSample:
        """CPU so far. Take the window's closing sample while its threads still run: an ended thread's time is
        only in the process total."""
        ticks = os.sysconf("SC_CLK_TCK")
        me = os.getpid()
        threads: dict[int, float] = {}
        for task in Path(f"/proc/{me}/task").iterdir():
            try:
                threads[int(task.name)] = _stat_cpu(task / "stat", ticks)
            except (FileNotFoundError, ProcessLookupError):  # the thread ended meanwhile
                continue
        process = _stat_cpu(Path(f"/proc/{me}/stat"), ticks)
        return CpuSample(utc_now(), threads, process, _stat_cpu(Path(f"/proc/{self.broker_pid}/stat"), ticks))

    def share(self, start: datetime, end: CpuSample, events: int, names: dict[int, str]) -> CpuShare:
        """CPU per event from the last sample taken before ``start`` to ``end``; threads named in ``names``
        (native id -> group) are counted apart, the process's other threads as "other"."""
        before = [s for s in self._samples if s.at <= start]
        if not before:
            raise SystemExit("no CPU sample before the measured window: start the sampler earlier")
        begin = before[-1]
        groups: dict[str, float] = {}
        for tid, group in names.items():
            groups[group] = groups.get(group, 0.0) + end.threads.get(tid, 0.0) - begin.threads.get(tid, 0.0)
        groups["other"] = end.process - begin.process - sum(groups.values())
        return CpuShare({g: seconds / events for g, seconds in groups.items()}, (end.broker - begin.broker) / events)


def _stat_cpu(stat: Path, ticks: int) -> float:
    """utime + stime of a /proc stat file, in seconds (the fields after the parenthesised command name)."""
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks


def ceiling(share: CpuShare, raw_rate: float, cores: int) -> float:
    """The highest landing / raw ratio this machine allows for a pipeline spending ``share``: its rate is at most
    cores / (CPU per event), and at most 1 / (CPU per event) of its busiest thread, which runs serially."""
    busiest = max(share.by_group[g] for g in share.by_group if g != "other")
    return min(cores / share.total, 1 / busiest) / raw_rate


class RunningPipeline:
    """``run_pipeline`` on a thread, with the wall clock (UTC) of each batch's commit, from its on_landed hook.

    Progress comes from the pipeline's own callbacks: the bench reads nothing while the pipeline runs.
    """

    def __init__(self, settings: Settings, plugins: bool = True) -> None:
        from customer_health.composition import pipeline_extensions
        from ingest.plugins import PipelineExtensions

        self.settings = settings
        self.committed_at: dict[int, datetime] = {}  # batch id -> commit time
        self.messages = 0
        self._changed = threading.Condition()
        self._stop = threading.Event()

        def extensions(con: duckdb.DuckDBPyConnection, s: Settings) -> PipelineExtensions:
            ext = pipeline_extensions(con, s) if plugins else PipelineExtensions()
            ext.on_landed.append(self._landed)
            return ext

        self.stats: PipelineStats | None = None

        def run() -> None:
            self.stats = run_pipeline(settings, self._stop, install_signal_handlers=False, extensions=extensions)

        self._thread = threading.Thread(target=run)
        self._thread.start()

    def thread_names(self) -> dict[int, str]:
        """Native thread id -> group, for the pipeline's poll and landing threads (read while it runs)."""
        names = {self._thread.native_id: "poll"}
        names.update({t.native_id: "landing" for t in threading.enumerate() if t.name == "landing"})
        return names

    def _landed(self, result: BatchResult) -> None:
        with self._changed:
            self.committed_at[result.batch_id] = utc_now()
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


def pipeline_rate(
    settings: Settings, expected: int, cpu: CpuSampler, plugins: bool = True,
) -> tuple[float, int, CpuShare]:
    """Events durably landed in DuckDB per second, from the start of the first poll that returned records to
    the last commit, and the CPU per event spent meanwhile.

    ``plugins``: with the product's per-batch plug-ins (batch quality suites, health refresh, churn scoring,
    alerts), as ``customer-health ingest`` runs; without them, the landing path alone.
    """
    pipeline = RunningPipeline(settings, plugins)
    try:
        pipeline.wait_for(expected, timeout=600)
        end = cpu.sample()
        names = pipeline.thread_names()
    finally:
        pipeline.stop()
    with duckdb.connect(str(settings.db_path), read_only=True) as con:
        messages, batches, avg_size = con.execute(
            "select sum(messages), count(*), avg(messages) from ingest_batches").fetchone()
    assert pipeline.stats is not None and pipeline.stats.first_polled_at is not None
    first, last = pipeline.stats.first_polled_at, max(pipeline.committed_at.values())
    wall = (last - first).total_seconds()
    print(f"pipeline {'with' if plugins else 'without'} plug-ins: {batches} batches of {avg_size:,.0f} events "
          f"on average in {wall:.1f} s")
    return messages / wall, int(messages), cpu.share(first, end, int(messages), names)


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
    topics = settings.kafka.topics.with_overrides(**{t: f"{t}-{suffix}" for t in settings.kafka.topics.by_type()})
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
            bare = settings_for(Path(tmp), broker.bootstrap_servers, "bare").with_overrides(
                kafka__topics=settings.kafka.topics, pipeline=settings.pipeline)
            with CpuSampler(broker.process.pid) as cpu:
                raw, raw_cpu = raw_consume_rate(settings, len(events), cpu)
                landed, messages, landed_cpu = pipeline_rate(settings, len(events), cpu)
                bare_landed, _, bare_cpu = pipeline_rate(bare, len(events), cpu, plugins=False)
            cores = os.cpu_count() or 1
            print(f"events: {messages:,} mixed (tickets, payments, visits, customers), 3 partitions per topic; "
                  f"DuckDB threads {settings.pipeline.threads(cores)} of {cores} cores")
            print(f"produce rate:             {produced:10,.0f} events/s")
            print(f"raw consume rate:         {raw:10,.0f} events/s")
            print(f"pipeline landing rate:    {landed:10,.0f} events/s (durably committed in DuckDB, with plug-ins)")
            print(f"ratio landing / raw:      {landed / raw:10.2f}   (goal >= 0.90)")
            print(f"landing path alone:       {bare_landed:10,.0f} events/s, ratio {bare_landed / raw:.2f} "
                  "(no quality, health, churn or alert plug-ins)")
            print(f"cpu per event, raw consume:        {raw_cpu.describe()}")
            print(f"cpu per event, with plug-ins:      {landed_cpu.describe()}")
            print(f"cpu per event, landing path alone: {bare_cpu.describe()}")
            print(f"ceiling on {cores} cores, with plug-ins:      {ceiling(landed_cpu, raw, cores):5.2f} of raw "
                  "(cores / total CPU per event, or 1 / the busiest thread's, against the raw rate)")
            print(f"ceiling on {cores} cores, landing path alone: {ceiling(bare_cpu, raw, cores):5.2f} of raw")
            steady = settings_for(Path(tmp), broker.bootstrap_servers, "latency")
            ensure_topics(steady.kafka)
            p50, p95, n = steady_latency(steady, args.steady_rate, args.steady_seconds)
            print(f"latency at {args.steady_rate:,}/s ({n:,} events): p50 {p50:,.0f} ms, p95 {p95:,.0f} ms "
                  "(produced -> committed in DuckDB)")
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
