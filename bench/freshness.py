"""Benchmark: end-to-end freshness at a steady rate: event produced -> readable by a client, both as a
landed event and as the customer's refreshed health and segment.

    .venv/bin/python bench/freshness.py [--customers 2000] [--history-days 30] [--rate 1000] [--seconds 30]

Starts its own embedded broker (Tansu) and the pipeline as a separate process (`customer-health ingest`,
with the product's plug-ins: quality, health, alerts), lands a simulated history, then for --seconds
sends simulated live events at --rate per second. Meanwhile it sends probes: a visit for one of a few
dedicated probe customers (nothing else touches them) every --probe-interval seconds, and a client reads
over Quack, every --poll-ms, what landed for them and their health row (visits_90d, segment): as stored
in health_state (--read state, the default), or through the customer_health view the pages read (--read
view; the view's read-time presentation makes each of the client's 20 reads a second cost the pipeline
~15 ms of CPU, which a dashboard refreshing every few seconds does not). A probe's
freshness is the time from its send() to the first read that shows it. The steady phase starts once the
pipeline has derived its history (90 daily points), as a running deployment has one. Goal (issue 17): p95
under 1 s at 1,000 events/s. Prints figures only.

--statements FILE runs the pipeline under bench/_timed_pipeline.py and prints the steady phase's costliest
statements and any statement prepared (planned) again in it; --keep DIR keeps the database and the log.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from kafka import KafkaProducer

try:
    import customer_health  # noqa: F401
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from customer_health.config import load_settings  # noqa: E402
from customer_health.db import endpoint_path, open_reader  # noqa: E402
from customer_health.simulate import SimulationSettings, generate_history, generate_live, produce  # noqa: E402
from customer_health.sqlfiles import Statements  # noqa: E402
from ingest.broker import ensure_topics, free_port, port_open, start_broker  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PROBES = 20


@dataclass
class Probe:
    customer_id: str
    number: int  # the customer's n-th probe visit (1-based)
    sent: float  # time.monotonic() at send
    landed: float | None = None
    health: float | None = None


@dataclass
class Probes:
    items: list[Probe] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def mark(self, kind: str, counts: dict[str, int], now: float) -> None:
        with self.lock:
            for probe in self.items:
                if getattr(probe, kind) is None and counts.get(probe.customer_id, 0) >= probe.number:
                    setattr(probe, kind, now)

    def done(self, kind: str) -> bool:
        with self.lock:
            return all(getattr(p, kind) is not None for p in self.items)


def probe_profile(customer_id: str) -> bytes:
    now = datetime.now(UTC).isoformat()
    return json.dumps({"event_id": f"{customer_id}-profile", "customer_id": customer_id, "occurred_at": now,
                       "name": f"Probe {customer_id}", "kind": "b2c", "plan": "standard",
                       "signed_up_at": now}).encode()


def probe_visit(customer_id: str, number: int) -> bytes:
    return json.dumps({"event_id": f"{customer_id}-visit-{number}", "customer_id": customer_id,
                       "occurred_at": datetime.now(UTC).isoformat(), "session_id": f"{customer_id}-{number}",
                       "channel": "web", "duration_seconds": 30, "pages": 2}).encode()


def start_pipeline(config: Path, log: Path, statements: Path | None = None) -> subprocess.Popen[bytes]:
    command = ["-m", "customer_health.cli"] if statements is None else [
        str(REPO / "bench" / "_timed_pipeline.py"), str(statements.resolve())]
    return subprocess.Popen(
        [sys.executable, *command, "ingest", "--config", str(config)],
        stdout=log.open("ab"), stderr=subprocess.STDOUT, cwd=REPO,
    )


def wait_serving(settings, pipeline: subprocess.Popen[bytes], timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pipeline.poll() is not None:
            raise SystemExit(f"the pipeline exited with code {pipeline.returncode}")
        try:
            info = json.loads(endpoint_path(settings.db_path).read_text())
            host, _, port = info["uri"].removeprefix("quack:").rpartition(":")
            if info["pid"] == pipeline.pid and port_open(host, int(port)):
                return str(info["uri"])
        except (FileNotFoundError, ValueError, KeyError):
            pass
        time.sleep(0.2)
    raise SystemExit("the pipeline did not start serving")


def landed_total(db: Statements) -> int:
    return sum(db.one("status/landed_counts") or (0,))


def poll(db: Statements, probes: Probes, health: str | None, stop: threading.Event, interval: float,
         errors: list[str]) -> None:
    """The client: reads what landed for the probe customers and their health (statement ``health``)."""
    while not stop.is_set():
        started = time.monotonic()
        try:
            probes.mark("landed", dict(db.rows("bench/probe_landed")), time.monotonic())
            if health:
                probes.mark("health", {c: v for c, v, _, _ in db.rows(health)}, time.monotonic())
        except Exception as exc:  # reported once at the end; the bench keeps polling
            if len(errors) < 3:
                errors.append(str(exc).splitlines()[0])
        stop.wait(max(0.0, interval - (time.monotonic() - started)))


def quantiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        v = values[0] if values else float("nan")
        return v, v, v
    q = statistics.quantiles(values, n=100, method="inclusive")
    return q[49], q[94], max(values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--history-days", type=int, default=30)
    parser.add_argument("--rate", type=float, default=1000.0, help="steady background events per second")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the steady phase")
    parser.add_argument("--probe-interval", type=float, default=0.25, help="seconds between probes")
    parser.add_argument("--poll-ms", type=float, default=50.0, help="client read interval")
    parser.add_argument("--pipeline-log", type=Path, help="keep the pipeline's log in this file")
    parser.add_argument("--read", choices=("state", "view"), default="state",
                        help="the probes' health as stored (health_state, cheap to read) or through the "
                             "customer_health view the pages read (its read-time presentation costs the "
                             "pipeline ~15 ms of CPU per read, at 20 reads a second)")
    parser.add_argument("--statements", type=Path,
                        help="time the pipeline's statements and print the steady phase's costliest ones (the "
                             "totals, as JSON, are kept in this file)")
    parser.add_argument("--keep", type=Path, help="work in this (new) directory and keep it: the database, the "
                                                   "pipeline's log and config")
    args = parser.parse_args()
    if args.keep:
        args.keep = args.keep.resolve()
        args.keep.mkdir(parents=True)

    if args.statements:
        # the pipeline runs in the repository: the file is named absolutely, and an earlier run's is not read
        args.statements = args.statements.resolve()
        args.statements.unlink(missing_ok=True)
        args.statements.with_name(args.statements.name + ".mark").unlink(missing_ok=True)
    broker = start_broker("127.0.0.1", free_port())
    pipeline: subprocess.Popen[bytes] | None = None
    try:
        keep = contextlib.nullcontext(str(args.keep)) if args.keep else None
        with keep or tempfile.TemporaryDirectory(prefix="freshness-") as tmp:
            config = Path(tmp) / "config.toml"
            config.write_text(
                f'db_path = "{Path(tmp) / "freshness.duckdb"}"\n'
                f'[kafka]\nbootstrap_servers = "{broker.bootstrap_servers}"\ngroup_id = "freshness"\n'
                f"[quack]\nport = {free_port()}\n", encoding="utf-8")
            settings = load_settings(config, env={})
            ensure_topics(settings.kafka)
            topics = settings.kafka.topics.by_type()
            pipeline = start_pipeline(config, Path(tmp) / "pipeline.log", args.statements)
            uri = wait_serving(settings, pipeline)
            db = open_reader(settings, uri=uri)

            # 1. history and the probe customers' profiles
            sim = SimulationSettings(customers=args.customers, history_days=args.history_days,
                                     rate_per_second=args.rate)
            producer = KafkaProducer(bootstrap_servers=broker.bootstrap_servers, linger_ms=5)
            probe_ids = [f"PROBE-{i:03d}" for i in range(PROBES)]
            for cid in probe_ids:
                producer.send(topics["customers"], key=cid.encode(), value=probe_profile(cid))
            started = time.monotonic()
            history = produce(generate_history(sim, datetime.now(UTC)), producer, topics) + PROBES
            last, stable_since = -1, time.monotonic()
            while time.monotonic() - stable_since < 3.0 and time.monotonic() - started < 600:
                try:
                    now = landed_total(db)
                except duckdb.Error as exc:  # a refused connection while the pipeline lands the history
                    print(f"(read failed, retrying: {str(exc).splitlines()[0]})", file=sys.stderr)
                else:
                    if now != last:
                        last, stable_since = now, time.monotonic()
                time.sleep(0.25)
            history_s = time.monotonic() - started
            read_health = "bench/probe_health_state" if args.read == "state" else "bench/probe_health"
            # the health model runs in the pipeline only when its hooks are registered there
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and len(db.rows(read_health)) < PROBES:
                time.sleep(0.5)
            health = len(db.rows(read_health)) == PROBES

            # 2. steady load, probes and the polling client
            probes, stop = Probes(), threading.Event()
            errors: list[str] = []
            client = Statements(db.con.cursor(), db.uri)
            poller = threading.Thread(
                target=poll, args=(client, probes, read_health if health else None, stop, args.poll_ms / 1000, errors),
                daemon=True)
            poller.start()
            background_stop = threading.Event()
            sent_background: list[int] = []

            def background() -> None:
                sent_background.append(produce(generate_live(sim, datetime.now(UTC)), producer, topics,
                                               rate_per_second=args.rate, stop=background_stop))

            load = threading.Thread(target=background, daemon=True)
            load_started = time.monotonic()
            load.start()
            # The steady phase is measured with the history a running deployment has: the pipeline derives it
            # in a batch once the consumer's recorded lag shows the backlog is in, so under the load.
            points = 0
            while health and time.monotonic() - load_started < 120 and not points:
                try:
                    points = db.value("bench/history_points") or 0
                except duckdb.Error as exc:  # a refused connection while the pipeline derives the history
                    print(f"(read failed, retrying: {str(exc).splitlines()[0]})", file=sys.stderr)
                if not points:
                    time.sleep(0.5)
            time.sleep(3.0 if points else 0.0)  # the full refresh after the history
            steady_since = datetime.now(UTC).replace(tzinfo=None)
            steady_started = time.monotonic()
            if args.statements:
                args.statements.with_name(args.statements.name + ".mark").touch()
            probe_producer = KafkaProducer(bootstrap_servers=broker.bootstrap_servers, linger_ms=0)
            counts = dict.fromkeys(probe_ids, 0)
            n = 0
            while time.monotonic() - steady_started < args.seconds:
                cid = probe_ids[n % PROBES]
                counts[cid] += 1
                value = probe_visit(cid, counts[cid])
                with probes.lock:
                    probes.items.append(Probe(cid, counts[cid], time.monotonic()))
                probe_producer.send(topics["visits"], key=cid.encode(), value=value)
                n += 1
                time.sleep(args.probe_interval)
            background_stop.set()
            load.join()
            load_s = time.monotonic() - load_started
            steady_s = time.monotonic() - steady_started
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not (probes.done("landed") and (not health or probes.done("health"))):
                time.sleep(0.1)
            stop.set()
            poller.join()

            landed = [(p.landed - p.sent) * 1000 for p in probes.items if p.landed is not None]
            refreshed = [(p.health - p.sent) * 1000 for p in probes.items if p.health is not None]
            rate = sent_background[0] / load_s if sent_background else 0.0
            print(f"setup: {args.customers:,} customers, {history:,} history events landed in {history_s:.1f} s; "
                  f"{points} history points stored; "
                  f"pipeline in its own process, client over Quack every {args.poll_ms:.0f} ms reading "
                  f"{'health_state' if args.read == 'state' else 'the customer_health view'}")
            print(f"background load: {rate:,.0f} events/s over its {load_s:.0f} s (the steady phase: its last "
                  f"{steady_s:.0f} s, {len(probes.items)} probes)")
            p50, p95, worst = quantiles(landed)
            print(f"freshness, landed and readable: p50 {p50:,.0f} ms, p95 {p95:,.0f} ms, max {worst:,.0f} ms "
                  f"({len(landed)}/{len(probes.items)} probes seen)")
            if health:
                p50, p95, worst = quantiles(refreshed)
                verdict = ("n/a (no history stored: not the deployment the goal is for)" if not points
                           else "ok" if p95 < 1000 and len(refreshed) == len(probes.items) else "MISSED")
                print(f"freshness, health and segment readable: p50 {p50:,.0f} ms, p95 {p95:,.0f} ms, "
                      f"max {worst:,.0f} ms ({len(refreshed)}/{len(probes.items)} probes seen); "
                      f"goal p95 < 1,000 ms: {verdict}")
            else:
                print("freshness, health and segment readable: n/a (the pipeline does not refresh "
                      "customer_health here)")
            batches, size, cycle50, cycle95 = db.row("bench/batch_stats", {"since": steady_since})
            if batches:
                print(f"pipeline in the steady phase: {batches:,} batches of {size:,.0f} events on average, "
                      f"one batch every {cycle50 or 0:,.0f} ms (p50), {cycle95 or 0:,.0f} ms (p95)")
            if errors:
                print(f"client errors: {'; '.join(errors)}")
            client.close()
            db.close()
            if args.pipeline_log:
                args.pipeline_log.write_bytes((Path(tmp) / "pipeline.log").read_bytes())
    finally:
        if pipeline is not None and pipeline.poll() is None:
            pipeline.terminate()
            try:
                pipeline.wait(60)
            except subprocess.TimeoutExpired:
                pipeline.kill()
        broker.stop()
    if args.statements and args.statements.exists():
        steady = json.loads(args.statements.read_text(encoding="utf-8"))["steady"]
        print("the pipeline's statements in the steady phase, by CPU (calls, wall ms, CPU ms, CPU ms per call):")
        timed = [(name, spent) for name, spent in steady.items() if not name.startswith(("(prepare) ", "(forget) "))]
        for name, (calls, wall, cpu) in sorted(timed, key=lambda kv: -kv[1][2])[:20]:
            print(f"  {name:<42} {calls:>6,.0f} {wall * 1000:>9,.0f} {cpu * 1000:>9,.0f} {cpu * 1000 / calls:>8,.1f}")
        prepared = sum(calls for name, (calls, _, _) in steady.items() if name.startswith("(prepare) "))
        print(f"statements prepared (planned) again in the steady phase: {prepared:,.0f}")
        forgot = steady.get("(forget) check_catalog", [0])[0]
        print(f"checks that forgot every prepared statement (a catalog change, or their age): {forgot:,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
