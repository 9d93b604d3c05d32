"""Benchmark: the lake (store = "ducklake", catalog in a real PostgreSQL) against the embedded DuckDB file, and 1
against 3 lake pipelines in one consumer group, side by side in one run; then, on paper, 3 and 10 machines.

    .venv/bin/python bench/lake_scale.py [--events 100000] [--partitions 6] [--rate 1000] [--seconds 20]

Starts its own embedded broker (Tansu) and PostgreSQL server (Debian's binaries, initdb in a temporary
directory, fsync on as in production), and runs every pipeline as its own process (`customer-health ingest`,
with the product's plug-ins), each configuration on topics of its own:

1. landing rate: --events mixed simulated events are produced once; file-1, lake-1 and lake-3 each land them
   from the beginning under a fresh consumer group and store. The rate is taken between the moments 10 % and
   90 % of the events were readable (a reader polls the store), so the group join and the tail are left out;
   the CPU of the pipelines, of PostgreSQL and of the broker is read from /proc over the same window.
2. freshness at --rate events/s: file-1 and lake-1 under a steady simulated live load, with probe visits
   every 0.25 s; a reader polls the store every --poll-ms; a probe's freshness is its send() to the first read
   that shows it.
3. the catalog's commit rate: --writers processes committing one-row inserts into their own lake tables as
   fast as they can for --commit-seconds: the bound a catalog on one PostgreSQL puts on commits per second.
4. on paper: what 3 and 10 machines would land, from the figures above, with the assumptions printed.

The lake's data files go to a local directory here (no S3 on this machine). Prints figures only.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import duckdb
from kafka import KafkaProducer

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

from freshness import PROBES, Probe, Probes, probe_profile, probe_visit, quantiles, wait_serving  # noqa: E402
from ingest_rate import mixed_events, produce_all  # noqa: E402

from customer_health.config import Settings, load_settings  # noqa: E402
from customer_health.db import attach_lake, open_reader  # noqa: E402
from customer_health.simulate import SimulationSettings, generate_history, generate_live, produce  # noqa: E402
from customer_health.sqlfiles import Statements  # noqa: E402
from ingest.broker import ensure_topics, free_port, start_broker  # noqa: E402
from tests.pg import PostgresServer, pg_bin  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
T = TypeVar("T")
# A pipeline's first batch derives the health history of every customer it has seen (60 s on this loaded
# machine): longer than the default max_poll_interval_ms (60 s), after which Kafka drops the member from the
# group. Seen here with 3 lake pipelines: dropped members did not land again within 4 minutes.
MAX_POLL_MS = 600_000
# What a reader reads in each store: (messages accounted for, probe visits per customer, batches and their size).
# The file holds the landed events and dead letters; the lake the pipelines' commits and their raw messages.
READS = {
    "duckdb": ("bench/landed_total", "bench/probe_landed", "bench/batch_stats"),
    "ducklake": ("bench/lake_accounted", "bench/lake_probe_landed", "bench/lake_batch_stats"),
}


# --- processes and their CPU ------------------------------------------------------------------------------


def process_cpu(pid: int, children: bool = False) -> float:
    """utime + stime of a process (all its threads), in seconds; with ``children``, also of its reaped children."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / TICKS


def child_pids(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


@dataclass
class Postgres:
    """A PostgreSQL server as production runs it (fsync on), its CPU counted over the postmaster's tree."""

    server: PostgresServer
    base: Path

    @property
    def postmaster(self) -> int:
        return int((self.server.data_dir / "postmaster.pid").read_text().split()[0])

    def cpu(self) -> float:
        """Seconds of CPU the server has spent: the postmaster, its live backends and its reaped ones."""
        main = self.postmaster
        return process_cpu(main, children=True) + sum(process_cpu(p) for p in child_pids(main))


@contextlib.contextmanager
def postgres() -> Iterator[Postgres]:
    binaries = pg_bin()
    if binaries is None:
        raise SystemExit("PostgreSQL is not installed: apt-get install postgresql (as .ci/run does)")
    base = Path(tempfile.mkdtemp(prefix="lake-bench-pg-"))
    if os.geteuid() == 0:
        import pwd

        account = pwd.getpwnam("postgres")
        os.chown(base, account.pw_uid, account.pw_gid)
    server = PostgresServer(binaries, base / "data", free_port())
    try:
        server.run([str(binaries / "initdb"), "-D", str(server.data_dir), "-A", "trust", "-U", server.user, "-E",
                    "UTF8"])
        options = f"-p {server.port} -k {base} -c listen_addresses=127.0.0.1 -c max_connections=200"
        server.run([str(binaries / "pg_ctl"), "-D", str(server.data_dir), "-o", options, "-l",
                    str(base / "server.log"), "-w", "start"])
        yield Postgres(server, base)
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class Pipeline:
    config: Path
    log: Path
    process: subprocess.Popen[bytes] = field(init=False)

    def __post_init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTOMER_HEALTH_")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "customer_health.cli", "ingest", "--config", str(self.config)],
            stdout=self.log.open("ab"), stderr=subprocess.STDOUT, cwd=REPO, env=env)

    def cpu(self) -> float:
        return process_cpu(self.process.pid)

    def check(self) -> None:
        if self.process.poll() is not None:
            tail = self.log.read_text(errors="replace").strip().splitlines()[-5:]
            raise SystemExit(f"a pipeline exited with code {self.process.returncode}: " + " | ".join(tail))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- one configuration: a store, its topics, its group, its pipelines -------------------------------------


@dataclass
class Setup:
    """What the runs share: scratch directory, broker, PostgreSQL."""

    tmp: Path
    bootstrap: str
    pg: Postgres
    partitions: int
    broker_pid: int
    batch_events: int


@dataclass
class Configuration:
    name: str  # e.g. "lake-3"
    store: str  # "duckdb" or "ducklake"
    pipelines: int
    topics: dict[str, str]
    configs: list[Path]
    settings: Settings  # of the first pipeline: what a reader needs


def configure(setup: Setup, name: str, store: str, pipelines: int, topics: dict[str, str] | None = None,
              group: str | None = None, owned_only: bool = False) -> Configuration:
    suffix = uuid.uuid4().hex[:8]
    topics = topics or {t: f"{t}-{name}-{suffix}" for t in ("tickets", "payments", "visits", "customers")}
    group = group or f"bench-{name}-{suffix}"
    home = setup.tmp / f"{name}-{suffix}"
    home.mkdir()
    lake = ""
    if store == "ducklake":
        database = f"lake_{suffix}"
        catalog = setup.pg.server.createdb(database)
        lake = (f'[ducklake]\ncatalog = "{catalog}"\ndata_path = "{home / "lake"}/"\n'
                f"derive_owned_only = {str(owned_only).lower()}\n")
    configs = []
    for i in range(pipelines):
        config = home / f"pipeline-{i}.toml"
        # Dynamic membership: on Tansu a static member's first join waits ~3 s more (docs/deployment.md).
        config.write_text(
            f'store = "{store}"\n'
            f'db_path = "{home / f"pipeline-{i}.duckdb"}"\n'
            f'[kafka]\nbootstrap_servers = "{setup.bootstrap}"\ngroup_id = "{group}"\n'
            f"partitions = {setup.partitions}\nstatic_membership = false\nmax_poll_interval_ms = {MAX_POLL_MS}\n"
            f"[pipeline]\nbatch_max_events = {setup.batch_events}\n"
            "[kafka.topics]\n" + "".join(f'{t} = "{n}"\n' for t, n in topics.items())
            + f"[quack]\nport = {free_port()}\n" + lake,
            encoding="utf-8")
        configs.append(config)
    settings = load_settings(configs[0], env={})
    ensure_topics(settings.kafka)
    if store == "ducklake":
        # The lake is created once, before its pipelines start: N pipelines attaching a new catalog at the
        # same moment race to create DuckLake's metadata tables (seen: "relation ducklake_metadata already
        # exists"; the loser exits and, in compose, restarts).
        con = duckdb.connect()
        attach_lake(con, settings)
        con.close()
    return Configuration(name, store, pipelines, topics, configs, settings)


def start(configuration: Configuration) -> list[Pipeline]:
    return [Pipeline(c, c.with_suffix(".log")) for c in configuration.configs]


def stop_all(pipelines: Sequence[Pipeline]) -> None:
    for p in pipelines:
        if p.process.poll() is None:
            p.process.terminate()
    for p in pipelines:
        p.stop()


def open_store(configuration: Configuration, pipelines: Sequence[Pipeline], timeout: float = 120) -> Statements:
    """A reader of the configuration's store: the lake attached directly, or the file over its pipeline's Quack."""
    settings = configuration.settings
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        for p in pipelines:
            p.check()
        try:
            if settings.store == "ducklake":
                con = duckdb.connect()
                con.execute("set timezone = 'UTC'")
                attach_lake(con, settings)
                db = Statements(con, prepare=False)
            else:  # over Quack only: the file opened read-only would lock its pipeline out
                db = open_reader(settings, uri=wait_serving(settings, pipelines[0].process, timeout))
            accounted(db, settings.store)
            return db
        except Exception as exc:  # not attached or not created yet: the pipeline is starting
            last = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            time.sleep(0.5)
    raise SystemExit(f"{configuration.name}: no store to read after {timeout:.0f} s ({last})")


def accounted(db: Statements, store: str) -> int:
    return int((db.one(READS[store][0]) or (0,))[0] or 0)


ASSIGNED = re.compile(r"\bassigned \S+\[\d+\]")


def wait_assigned(pipelines: Sequence[Pipeline], settle_s: float = 3.0, timeout: float = 240) -> float:
    """Wait until every pipeline has logged an assignment and none has logged another for ``settle_s``: the
    group has settled (joins and rebalances behind, the lake created and claimed). Returns the seconds taken."""
    started = time.monotonic()
    deadline = started + timeout
    last_count, changed_at = -1, started
    while time.monotonic() < deadline:
        for p in pipelines:
            p.check()
        counts = [len(ASSIGNED.findall(p.log.read_text(errors="replace"))) if p.log.exists() else 0
                  for p in pipelines]
        if sum(counts) != last_count:
            last_count, changed_at = sum(counts), time.monotonic()
        elif all(counts) and time.monotonic() - changed_at >= settle_s:
            return time.monotonic() - started
        time.sleep(0.2)
    raise SystemExit(f"the pipelines did not settle in their group within {timeout:.0f} s")


# --- 1. landing rate ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Landing:
    name: str
    rate: float  # events/s between 10 % and 90 % readable
    pipeline_cpu: float  # CPU seconds per event, all pipeline processes
    catalog_cpu: float  # PostgreSQL
    broker_cpu: float
    batch_events: float  # events per batch (per lake commit)
    cores_busy: float  # pipelines' CPU seconds per wall second in the window


@dataclass(frozen=True)
class Sample:
    at: float
    landed: int
    pipelines: float
    catalog: float
    broker: float


def landing(setup: Setup, configuration: Configuration, events: list[tuple[str, bytes, bytes]],
            poll_s: float = 0.25, timeout: float = 900) -> Landing:
    """Start the pipelines on empty topics, let the group settle, then produce ``events`` as fast as possible
    and follow what becomes readable."""
    expected = len(events)
    pipelines = start(configuration)
    try:
        wait_assigned(pipelines)
        db = open_store(configuration, pipelines)
        producer = threading.Thread(target=produce_all, args=(setup.bootstrap, configuration.topics, events),
                                    daemon=True)
        producer.start()
        samples: list[Sample] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for p in pipelines:
                p.check()
            landed = accounted(db, configuration.store)
            samples.append(Sample(time.monotonic(), landed, sum(p.cpu() for p in pipelines), setup.pg.cpu(),
                                  process_cpu(setup.broker_pid)))
            if landed >= expected:
                break
            time.sleep(poll_s)
        stats = READS[configuration.store][2]
        batches = db.one(stats, {"since": datetime(2000, 1, 1)} if configuration.store == "duckdb" else None)
        db.close()
        producer.join(60)
    finally:
        stop_all(pipelines)
    if samples[-1].landed < expected:
        raise SystemExit(f"{configuration.name}: {samples[-1].landed:,} of {expected:,} events landed "
                         f"in {timeout:.0f} s")
    a = next(s for s in samples if s.landed >= 0.1 * expected)
    b = next(s for s in samples if s.landed >= 0.9 * expected)
    window_events, wall = b.landed - a.landed, b.at - a.at
    if window_events <= 0 or wall <= 0:
        raise SystemExit(f"{configuration.name}: the window between 10 % and 90 % is empty; raise --events")
    return Landing(configuration.name, window_events / wall, (b.pipelines - a.pipelines) / window_events,
                   (b.catalog - a.catalog) / window_events, (b.broker - a.broker) / window_events,
                   float(batches[1] or 0) if batches else 0.0, (b.pipelines - a.pipelines) / wall)


# --- 2. freshness ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Freshness:
    name: str
    rate: float
    p50_ms: float
    p95_ms: float
    max_ms: float
    seen: int
    sent: int


def freshness(label: str, configuration: Configuration, customers: int, rate: float, seconds: float,
              poll_ms: float) -> Freshness:
    topics = configuration.topics
    pipelines = start(configuration)
    try:
        wait_assigned(pipelines)
        db = open_store(configuration, pipelines)
        producer = KafkaProducer(bootstrap_servers=configuration.settings.kafka.bootstrap_servers, linger_ms=5)
        probe_ids = [f"PROBE-{i:03d}" for i in range(PROBES)]
        for cid in probe_ids:
            producer.send(topics["customers"], key=cid.encode(), value=probe_profile(cid))
        sim = SimulationSettings(customers=customers, history_days=7, rate_per_second=rate)
        history = produce(generate_history(sim, datetime.now(UTC)), producer, topics) + PROBES
        deadline = time.monotonic() + 600
        while accounted(db, configuration.store) < history and time.monotonic() < deadline:
            for p in pipelines:
                p.check()
            time.sleep(0.5)

        probes, stop, errors = Probes(), threading.Event(), list[str]()

        def poll() -> None:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    probes.mark("landed", dict(db.rows(READS[configuration.store][1])), time.monotonic())
                except duckdb.Error as exc:
                    if len(errors) < 3:
                        errors.append(str(exc).splitlines()[0])
                stop.wait(max(0.0, poll_ms / 1000 - (time.monotonic() - started)))

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        background_stop, sent_background = threading.Event(), []

        def background() -> None:
            sent_background.append(produce(generate_live(sim, datetime.now(UTC)), producer, topics,
                                           rate_per_second=rate, stop=background_stop))

        load = threading.Thread(target=background, daemon=True)
        load.start()
        probe_producer = KafkaProducer(bootstrap_servers=configuration.settings.kafka.bootstrap_servers,
                                       linger_ms=0)
        counts = dict.fromkeys(probe_ids, 0)
        steady_started, n = time.monotonic(), 0
        while time.monotonic() - steady_started < seconds:
            cid = probe_ids[n % PROBES]
            counts[cid] += 1
            value = probe_visit(cid, counts[cid])
            with probes.lock:
                probes.items.append(Probe(cid, counts[cid], time.monotonic()))
            probe_producer.send(topics["visits"], key=cid.encode(), value=value)
            n += 1
            time.sleep(0.25)
        background_stop.set()
        load.join()
        steady_s = time.monotonic() - steady_started
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not probes.done("landed"):
            time.sleep(0.1)
        stop.set()
        poller.join()
        probe_producer.close()
        producer.close()
        db.close()
    finally:
        stop_all(pipelines)
    landed = [(p.landed - p.sent) * 1000 for p in probes.items if p.landed is not None]
    p50, p95, worst = quantiles(landed)
    if errors:
        print(f"({configuration.name} reader errors: {'; '.join(errors)})", file=sys.stderr)
    return Freshness(label, (sent_background[0] if sent_background else 0) / steady_s, p50, p95,
                     worst, len(landed), len(probes.items))


# --- 3. the catalog's commit rate --------------------------------------------------------------------------


def commit_writer(config: Path, table: str, seconds: float, ready: Path) -> None:
    """One writer process: one-row inserts into its own lake table, each its own commit, for ``seconds``."""
    settings = load_settings(config, env={})
    con = duckdb.connect()
    attach_lake(con, settings)
    ready.touch()
    while not ready.with_suffix(".go").exists():
        time.sleep(0.01)
    latencies = []
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        started = time.perf_counter()
        for _ in range(20):  # a conflict with another writer's commit is retried
            try:
                con.execute(f"insert into lake.{table} values (?, now())", [n])
                break
            except duckdb.TransactionException:
                continue
        latencies.append(time.perf_counter() - started)
        n += 1
    p95 = statistics.quantiles(latencies, n=20)[18] if len(latencies) > 1 else latencies[0]
    print(f"{n} {statistics.median(latencies) * 1000:.2f} {p95 * 1000:.2f}")


@dataclass(frozen=True)
class CommitRate:
    writers: int
    per_second: float
    p50_ms: float
    p95_ms: float


def commit_rate(setup: Setup, writers: int, seconds: float) -> CommitRate:
    configuration = configure(setup, f"commits{writers}", "ducklake", 1)
    # The lake and the writers' tables are created first, by one process: a DuckLake catalog's creation
    # is not meant to race.
    con = duckdb.connect()
    attach_lake(con, configuration.settings)
    for i in range(writers):
        con.execute(f"create table lake.t{i} (n bigint, written_at timestamp)")
    con.close()
    go = setup.tmp / f"commits-{uuid.uuid4().hex[:6]}"
    procs = []
    for i in range(writers):
        ready = go.with_name(f"{go.name}-{i}.ready")
        procs.append((ready, subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--commit-writer", str(configuration.configs[0]),
             f"t{i}", str(seconds), str(ready)], stdout=subprocess.PIPE, text=True, cwd=REPO)))
    deadline = time.monotonic() + 120
    while not all(r.exists() for r, _ in procs) and time.monotonic() < deadline:
        time.sleep(0.05)
    for ready, _ in procs:
        ready.with_suffix(".go").touch()
    results = []
    for _, proc in procs:
        out, _ = proc.communicate(timeout=seconds + 120)
        if proc.returncode != 0:
            raise SystemExit(f"a commit writer failed (exit {proc.returncode})")
        n, p50, p95 = out.split()
        results.append((int(n), float(p50), float(p95)))
    return CommitRate(writers, sum(r[0] for r in results) / seconds,
                      statistics.median(r[1] for r in results), max(r[2] for r in results))


# --- main ---------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="events each landing-rate run lands")
    parser.add_argument("--batch-events", type=int, default=10_000,
                        help="pipeline.batch_max_events of every run (smaller than the default 50,000 so that a "
                             "landing run has enough batches to take a rate between 10 %% and 90 %%)")
    parser.add_argument("--partitions", type=int, default=6, help="partitions per topic")
    parser.add_argument("--pipelines", type=int, default=3, help="lake pipelines of the scale-out run")
    parser.add_argument("--rate", type=float, default=1000.0, help="steady events/s of the freshness runs")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each freshness run's steady phase")
    parser.add_argument("--customers", type=int, default=1000, help="simulated customers of the freshness runs")
    parser.add_argument("--poll-ms", type=float, default=100.0, help="the freshness reader's interval")
    parser.add_argument("--writers", type=int, default=3, help="processes committing in the catalog-rate run")
    parser.add_argument("--commit-seconds", type=float, default=8.0)
    parser.add_argument("--landing-runs", nargs="*", choices=("file", "lake-1", "lake-n", "lake-n-owned"),
                        default=(), help="only these landing runs (default: all; lake-n: every pipeline derives "
                        "every customer, ducklake.derive_owned_only = false, the default; lake-n-owned: true)")
    parser.add_argument("--attempts", type=int, default=2,
                        help="landing runs of a configuration tried at most this often (a failed one is reported)")
    parser.add_argument("--skip", nargs="*", default=(), choices=("landing", "freshness", "commits", "lake", "reader"),
                        help="leave these parts out (lake: every lake run, e.g. to try the file runs alone)")
    parser.add_argument("--commit-writer", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.commit_writer:
        config, table, seconds, ready = args.commit_writer
        commit_writer(Path(config), table, float(seconds), Path(ready))
        return 0

    # SIGTERM stops the run as Ctrl-C does: the pipelines, the broker and PostgreSQL are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    cores = os.cpu_count() or 1
    load_before = os.getloadavg()[0]
    broker = start_broker("127.0.0.1", free_port())
    try:
        with tempfile.TemporaryDirectory(prefix="lake-scale-") as tmp, postgres() as pg:
            setup = Setup(Path(tmp), broker.bootstrap_servers, pg, args.partitions, broker.process.pid,
                          args.batch_events)
            landings: list[Landing] = []
            failures: list[str] = []

            def attempt(what: str, work: Callable[[], T]) -> T | None:
                """A run that fails is reported and the others still run: side by side, what could be measured."""
                sys.stderr.write(f"{what} ...\n")
                try:
                    return work()
                except (SystemExit, Exception) as exc:
                    failures.append(f"{what}: FAILED ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})")
                    return None

            reader_copy: tuple[int, float] | None = None
            if "landing" not in args.skip:
                events = mixed_events(args.events)
                # (name, its --landing-runs choice, store, pipelines, ducklake.derive_owned_only)
                runs = [("file-1", "file", "duckdb", 1, False), ("lake-1", "lake-1", "ducklake", 1, False),
                        (f"lake-{args.pipelines}", "lake-n", "ducklake", args.pipelines, False),
                        (f"lake-{args.pipelines}-owned", "lake-n-owned", "ducklake", args.pipelines, True)]
                chosen = args.landing_runs or ("file", "lake-1", "lake-n", "lake-n-owned")
                for name, choice, store, n, owned_only in runs:
                    if choice not in chosen or (store == "ducklake" and "lake" in args.skip):
                        continue
                    done = None
                    for trial in range(1, args.attempts + 1):
                        configuration = configure(setup, name, store, n, owned_only=owned_only)
                        done = attempt(f"landing {len(events):,} events: {name} (attempt {trial})",
                                       lambda c=configuration: landing(setup, c, events))  # type: ignore[misc]
                        if done is not None:
                            break
                    if done is not None:
                        landings.append(done)
                        if name == "lake-1" and "reader" not in args.skip:
                            reader_copy = attempt("a reader's copy of the lake", lambda c=configuration: (
                                len(events), reader_open_seconds(c.settings)))  # type: ignore[misc]
            fresh: list[Freshness] = []
            if "freshness" not in args.skip:
                for name, store in (("file-1", "duckdb"), ("lake-1", "ducklake"))[:1 if "lake" in args.skip else 2]:
                    configuration = configure(setup, f"fresh-{name}", store, 1)
                    got = attempt(f"freshness at {args.rate:,.0f} events/s: {name}", lambda c=configuration, n=name: (
                        freshness(n, c, args.customers, args.rate, args.seconds, args.poll_ms)))  # type: ignore[misc]
                    if got is not None:
                        fresh.append(got)
            commits: list[CommitRate] = []
            if "commits" not in args.skip and "lake" not in args.skip:
                for writers in sorted({1, args.writers}):
                    rate = attempt(f"catalog commit rate, {writers} writer(s)",
                                   lambda w=writers: commit_rate(setup, w, args.commit_seconds))  # type: ignore[misc]
                    if rate is not None:
                        commits.append(rate)
            report(args, cores, load_before, landings, fresh, commits, reader_copy)
            for failure in failures:
                print(failure)
    finally:
        broker.stop()
    return 1 if failures else 0


def reader_open_seconds(settings: Settings) -> float:
    """Seconds to open a reader of the lake as the dashboard and the CLI do (customer_health.db.open_reader)."""
    import customer_health.composition  # noqa: F401  (registers how a lake is read)

    started = time.monotonic()
    reader = open_reader(settings)
    seconds = time.monotonic() - started
    reader.close()
    return seconds


def report(args: argparse.Namespace, cores: int, load_before: float, landings: list[Landing],
           fresh: list[Freshness], commits: list[CommitRate], reader_copy: tuple[int, float] | None) -> None:
    print(f"machine: {cores} cores, load average {load_before:.1f} before the run, "
          f"{os.getloadavg()[0]:.1f} after (shared: other work ran meanwhile)")
    print(f"setup: embedded broker (Tansu), {args.partitions} partitions per topic; PostgreSQL catalog on this "
          "machine, fsync on; the lake's data files in a local directory; every pipeline its own process, "
          f"batches of at most {args.batch_events:,} events")
    by_name = {x.name: x for x in landings}
    for x in landings:
        print(f"landing rate {x.name}: {x.rate:8,.0f} events/s (10-90 % readable), cpu per event: pipelines "
              f"{x.pipeline_cpu * 1e6:,.0f} us, catalog {x.catalog_cpu * 1e6:,.0f} us, broker "
              f"{x.broker_cpu * 1e6:,.0f} us; {x.batch_events:,.0f} events per batch, "
              f"pipelines busy {x.cores_busy:.2f} cores")
    file1, lake1 = by_name.get("file-1"), by_name.get("lake-1")
    lakeN = by_name.get(f"lake-{args.pipelines}")
    if file1 and lake1:
        print(f"ratio landing lake-1 / file-1: {lake1.rate / file1.rate:.2f}; cpu per event "
              f"{(lake1.pipeline_cpu + lake1.catalog_cpu) / file1.pipeline_cpu:.2f}x (pipeline + catalog)")
    if lake1 and lakeN:
        print(f"ratio landing lake-{args.pipelines} / lake-1: {lakeN.rate / lake1.rate:.2f} on this machine's "
              f"{cores} cores; pipeline cpu per event {lakeN.pipeline_cpu / lake1.pipeline_cpu:.2f}x, "
              f"catalog cpu per event {lakeN.catalog_cpu / max(lake1.catalog_cpu, 1e-9):.2f}x")
    owned = by_name.get(f"lake-{args.pipelines}-owned")
    if lakeN and owned:
        print(f"ratio landing lake-{args.pipelines}-owned / lake-{args.pipelines} (ducklake.derive_owned_only on / "
              f"off): {owned.rate / lakeN.rate:.2f}; pipeline cpu per event "
              f"{owned.pipeline_cpu / lakeN.pipeline_cpu:.2f}x")
    if lake1 and owned:
        print(f"ratio landing lake-{args.pipelines}-owned / lake-1: {owned.rate / lake1.rate:.2f}; pipeline cpu per "
              f"event {owned.pipeline_cpu / lake1.pipeline_cpu:.2f}x")
    if reader_copy:
        print(f"lake reader open (its copy of the lake, {reader_copy[0]:,} events): {reader_copy[1]:.1f} s")
    for f in fresh:
        print(f"freshness {f.name} at {f.rate:,.0f} events/s: p50 {f.p50_ms:,.0f} ms, p95 {f.p95_ms:,.0f} ms, "
              f"max {f.max_ms:,.0f} ms ({f.seen}/{f.sent} probes seen, reader every {args.poll_ms:.0f} ms)")
    if len(fresh) == 2:
        print(f"ratio freshness p95 lake-1 / file-1: {fresh[1].p95_ms / fresh[0].p95_ms:.2f}")
    for c in commits:
        print(f"catalog commits, {c.writers} writer(s): {c.per_second:,.0f} commits/s, commit p50 "
              f"{c.p50_ms:.1f} ms, p95 {c.p95_ms:.1f} ms (one-row inserts, each writer its own table)")
    if lake1 and lakeN and commits:
        project(args, lake1, lakeN, max(c.per_second for c in commits), cores)
    if lake1 and owned and commits:
        project(args, lake1, owned, max(c.per_second for c in commits), cores, "derive_owned_only: ")


def project(args: argparse.Namespace, lake1: Landing, lakeN: Landing, commits_per_s: float, cores: int,
            label: str = "") -> None:
    """What M machines would land, from this run's figures (see the assumptions printed); ``label`` prefixes
    the lines (which lake-n run they come from)."""
    n = args.pipelines
    # Pipeline CPU per event = own work + what every other pipeline costs it per event they land (reading
    # their commits for the global norms): lake-n spends c1 + (n - 1) * c_other per event landed.
    c1 = lake1.pipeline_cpu
    c_other = max(0.0, (lakeN.pipeline_cpu - c1) / (n - 1))
    busy = lake1.cores_busy  # cores one pipeline keeps busy on a machine of its own
    catalog = max(lakeN.catalog_cpu, lake1.catalog_cpu)
    batch = lake1.batch_events
    print(f"{label}projection assumptions: one pipeline per {cores}-core machine, busy {busy:.2f} cores as "
          "lake-1 here; "
          f"cpu per event {c1 * 1e6:,.0f} us of its own + {c_other * 1e6:,.0f} us per other pipeline "
          f"(from lake-1 vs lake-{n}); catalog on its own {cores}-core PostgreSQL machine at "
          f"{catalog * 1e6:,.0f} us per event; one lake commit per batch of {batch:,.0f} events, at most "
          f"{commits_per_s:,.0f} commits/s (measured); pipelines <= partitions; Kafka and object storage "
          "not the bound (not measured here)")
    for machines in (3, 10):
        by_cpu = machines * busy / (c1 + (machines - 1) * c_other)
        by_catalog_cpu = cores / catalog if catalog else float("inf")
        by_commits = commits_per_s * batch
        bounds = {"pipelines' cpu": by_cpu, "catalog cpu": by_catalog_cpu, "catalog commits": by_commits}
        binding = min(bounds, key=lambda k: bounds[k])
        partitions = f"needs >= {machines} partitions per topic" + (
            "" if args.partitions >= machines else f" (this run had {args.partitions})")
        print(f"{label}projection {machines} machines: {bounds[binding]:8,.0f} events/s, bound by {binding} "
              f"({', '.join(f'{k} {v:,.0f}' for k, v in bounds.items())}); {machines} pipelines, "
              f"{partitions}; {bounds[binding] / lake1.rate:.1f}x lake-1 here")


if __name__ == "__main__":
    sys.exit(main())
