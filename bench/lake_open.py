"""Benchmark: opening a reader of the lake (store = "ducklake") with and without a checkpoint, at the same event
count, side by side in one run.

    .venv/bin/python bench/lake_open.py [--events 200000] [--batch 5000] [--later 0.1] [--rounds 2]

Starts its own PostgreSQL server (tests/pg.py: Debian's binaries, initdb in a temporary directory) and commits
--events simulated events to a fresh lake in --batch-event commits, as pipelines do (ingest.lake.LakeLog, the
raw messages and offsets of each batch in one lake transaction); no broker is needed. Then, in turns:

- full replay: a reader's copy (customer_health.composition.LakeCopy) with no checkpoint in the lake: every
  commit landed in bulk and derived once, as before checkpoints;
- checkpoint + later: a checkpoint of a working store holding the 90 days of history (all but the --later
  share of the events; written from a reader's copy of them: the tables a leader's checkpoint holds), then the
  live events of the minute after it committed; the reader loads the checkpoint and lands the later commits;
- checkpoint only: a checkpoint of every commit, nothing after it.

Also prints what writing a checkpoint costs the leader (its landing thread waits that long every
ducklake.checkpoint_interval_s) and its size. Prints figures only.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import statistics
import sys
import tempfile
import time
import zlib
from collections.abc import Generator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

from customer_health.composition import LakeCopy  # noqa: E402
from customer_health.config import Settings  # noqa: E402
from customer_health.db import attach_lake  # noqa: E402
from customer_health.simulate import SimulationSettings, generate_history, generate_live  # noqa: E402
from ingest import checkpoint as checkpoints  # noqa: E402
from ingest.lake import LakeLog  # noqa: E402
from ingest.landing import RawBatch  # noqa: E402
from tests.pg import PostgresServer, start_postgres  # noqa: E402

PARTITIONS = 6
# The later events: the live stream of the last minute before the reader opens (a checkpoint is at most
# ducklake.checkpoint_interval_s old), --later of them in 20 s.
LATER_SECONDS = 20.0
LATER_BEFORE = timedelta(seconds=60)


def simulated(events: int, later: int) -> tuple[list[tuple[str, bytes, bytes]], list[tuple[str, bytes, bytes]]]:
    """(history, live): ``events - later`` events of the 90 days before a minute ago, then ``later`` live ones."""
    start = datetime.now(UTC) - LATER_BEFORE
    sim = SimulationSettings(customers=max(200, events // 50), seed=7, history_days=90,
                             rate_per_second=max(1.0, later / LATER_SECONDS))
    history = [(e.topic, e.key.encode(), e.value)
               for e in itertools.islice(generate_history(sim, start), events - later)]
    live = [(e.topic, e.key.encode(), e.value) for _at, e in itertools.islice(generate_live(sim, start), later)]
    if len(history) + len(live) < events:
        raise SystemExit(f"the simulator produced only {len(history) + len(live)} events; raise the population")
    return history, live


def commit_events(log: LakeLog, events: list[tuple[str, bytes, bytes]], batch: int,
                  offsets: dict[tuple[str, int], int]) -> None:
    """Commit ``events`` to the lake in batches of ``batch``, keyed to partitions as a producer would."""
    for start in range(0, len(events), batch):
        raw = RawBatch()
        for event_type, key, value in events[start:start + batch]:
            partition = zlib.crc32(key) % PARTITIONS
            offset = offsets.get((event_type, partition), 0)
            offsets[(event_type, partition)] = offset + 1
            raw.add_kafka(event_type, event_type, partition, offset, key, value, int(time.time() * 1000), None)
        log.commit(raw.to_arrow())


def open_reader(settings: Settings) -> tuple[float, str | None, int]:
    """Seconds to open a reader's copy, the checkpoint it opened from, the messages it landed from the lake."""
    started = time.perf_counter()
    copy = LakeCopy(settings)
    seconds = time.perf_counter() - started
    try:
        return seconds, (copy.checkpoint.checkpoint_id if copy.checkpoint else None), copy.replayed
    finally:
        copy.close()


def forget(log: LakeLog) -> None:
    log.commit_owned((), lambda con: con.execute("delete from lake.checkpoints"))


def write(settings: Settings, log: LakeLog) -> tuple[float, float, int]:
    """A checkpoint of a reader's copy of every commit so far: (seconds to open the copy, seconds to write it,
    its bytes on disk)."""
    started = time.perf_counter()
    copy = LakeCopy(settings)
    opened = time.perf_counter() - started
    try:
        started = time.perf_counter()
        written = checkpoints.write_checkpoint(copy.con, log, settings, copy.applied)
        seconds = time.perf_counter() - started
    finally:
        copy.close()
    size = sum(p.stat().st_size for p in Path(written.path).glob("*"))
    return opened, seconds, size


def lake_settings(catalog: str, data: Path) -> Settings:
    return Settings(store="ducklake").with_overrides(
        ducklake__catalog=catalog, ducklake__data_path=str(data) + "/", kafka__group_id="bench-open")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--later", type=float, default=0.1, help="share of the events committed after the checkpoint")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)

    history, live = simulated(args.events, int(args.events * args.later))
    events, split = history + live, len(history)
    tmp = Path(tempfile.mkdtemp(prefix="ch-lake-open-"))
    servers: Generator[PostgresServer, None, None] = start_postgres()  # type: ignore[assignment]
    server = next(servers)
    try:
        settings = lake_settings(server.createdb("bench_open"), tmp / "lake")
        con = duckdb.connect()
        attach_lake(con, settings)
        log = LakeLog(con, settings.kafka.group_id, "bench-writer")
        log.ensure_log()
        log.claim([(t, p) for t in settings.kafka.topics.by_type() for p in range(PARTITIONS)])
        offsets: dict[tuple[str, int], int] = {}
        started = time.perf_counter()
        commit_events(log, events[:split], args.batch, offsets)
        _opened, partial_write_s, partial_bytes = write(settings, log)
        partial = checkpoints.candidates(log, settings)[0].checkpoint_id
        commit_events(log, events[split:], args.batch, offsets)
        _opened, full_write_s, full_bytes = write(settings, log)
        print(f"{len(events):,} events in {len(log.commits()):,} commits landed in the lake "
              f"and checkpointed in {time.perf_counter() - started:.1f} s")
        print(f"writing a checkpoint: {partial_write_s:.2f} s ({partial_bytes / 1e6:.1f} MB) at {split:,} events, "
              f"{full_write_s:.2f} s ({full_bytes / 1e6:.1f} MB) at {len(events):,}")
        full = checkpoints.candidates(log, settings)[0].checkpoint_id

        results: dict[str, list[float]] = {"full replay": [], "checkpoint + later": [], "checkpoint only": []}
        landed: dict[str, int] = {}
        for _round in range(args.rounds):
            forget(log)
            seconds, used, replayed = open_reader(settings)
            assert used is None, used
            results["full replay"].append(seconds)
            landed["full replay"] = replayed

            # Only the partial checkpoint in the manifest: the reader lands the later commits.
            restore(log, partial, settings, split)
            seconds, used, replayed = open_reader(settings)
            assert used == partial, (used, partial)
            results["checkpoint + later"].append(seconds)
            landed["checkpoint + later"] = replayed

            restore(log, full, settings, len(events))
            seconds, used, replayed = open_reader(settings)
            assert used == full, (used, full)
            results["checkpoint only"].append(seconds)
            landed["checkpoint only"] = replayed

        base = statistics.median(results["full replay"])
        print(f"reader open at {len(events):,} events ({args.rounds} rounds, median; runs in turn):")
        for name, runs in results.items():
            median = statistics.median(runs)
            print(f"  {name:<20} {median:6.2f} s  ({', '.join(f'{r:.2f}' for r in runs)}; "
                  f"{landed[name]:,} messages landed from the lake)  {base / median:4.2f}x faster than a full replay")
    finally:
        servers.close()  # stops the server
        shutil.rmtree(tmp, ignore_errors=True)


def restore(log: LakeLog, checkpoint_id: str, settings: Settings, events: int) -> None:
    """The manifest holding only ``checkpoint_id`` (its files are still there: forget removed only rows)."""
    path = f"{checkpoints.checkpoints_root(settings)}{checkpoint_id}/"
    commits = duckdb.connect().execute(
        "select count(*) from read_parquet(?)", [path + checkpoints.COMMITS_FILE]).fetchone()
    params = {"checkpoint_id": checkpoint_id, "group_id": log.group_id, "pipeline": log.member,
              "now": checkpoints.utc_now(), "path": path, "schema_hash": checkpoints.schema_hash(),
              "settings_hash": checkpoints.settings_hash(settings), "commits": int(commits[0]) if commits else 0,
              "messages": events}

    def work(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("delete from lake.checkpoints")
        checkpoints.Statements(con, prepare=False).run("lake/insert_checkpoint", params)
    log.commit_owned((), work)


if __name__ == "__main__":
    main()
