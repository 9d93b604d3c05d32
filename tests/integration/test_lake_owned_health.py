"""store = "ducklake", real engines (PostgreSQL catalog, DuckDB): a lake pipeline derives per batch only the
customers it owns; the others wait in health_pending, computed from the rollups once it owns them (before its
alerts read them) and by a reader opened from its checkpoint, so that every answer is a single store's."""

from __future__ import annotations

import json
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from customer_health.alerts.pipeline import QualityAndAlerts
from customer_health.clock import model_now
from customer_health.composition import LakeCopy, pipeline_extensions
from customer_health.config import Settings
from customer_health.db import attach_lake, open_working_store
from customer_health.health.queries import portfolio
from customer_health.health.refresh import HealthRefresher
from customer_health.sqlfiles import Statements, transaction
from ingest.checkpoint import write_checkpoint
from ingest.lake import LakeLander, LakeLog
from ingest.landing import Lander, RawBatch
from ingest.service import build_lander
from tests.integration.test_lake_checkpoints import forget_checkpoints
from tests.integration.test_lake_pipelines import simulated_events

PARTITIONS = 3
TOPICS = ("customers", "tickets", "payments", "visits")
BATCH = 12  # events per batch: a few batches per simulated day, so that customers wait between full refreshes
# What a health_state row holds from its events alone (not from the time it was derived at).
WINDOW_SUMS = ("support_minutes_30d", "support_minutes_90d", "tickets_90d", "complaints_90d", "charges_90d",
               "refunds_90d", "visits_90d", "visits_30d", "visits_total", "last_activity_at", "last_payment_at")


def settings_of(catalog: str, tmp_path: Path) -> Settings:
    """The model's clock from the events, and no wall-clock-driven refresh, so that two stores landing the same
    batches derive them at the same times."""
    return Settings(store="ducklake").with_overrides(
        ducklake__catalog=catalog, ducklake__data_path=str(tmp_path / "lake") + "/", ducklake__sync_interval_s=3600.0,
        ducklake__checkpoint_interval_s=0.0, ducklake__derive_owned_only=True, clock__source="events",
        quality__batch_suites=False,
        health__history_days=35, health__history_rebuild_interval_seconds=0.0,
        health__norms_max_age_minutes=1e9, health__norms_check_seconds=1e9)


def partition_of(key: bytes) -> int:
    return zlib.crc32(key) % PARTITIONS


def batches(tmp_path: Path, by_partition: bool = False) -> list[RawBatch]:
    """A simulated population's events in time order, on the partition of their key, in small batches;
    ``by_partition``: each chunk as one batch per partition, as a lake pipeline lands its own commits and the
    other pipelines' (some touch no customer it owns)."""
    events = [(t, k, v) for t, k, v in simulated_events(tmp_path, customers=40, seed=13) if k != b"bad"]
    events.sort(key=lambda e: datetime.fromisoformat(json.loads(e[2])["occurred_at"]))
    offsets: dict[tuple[str, int], int] = {}
    out = []
    for start in range(0, len(events), BATCH):
        chunk: dict[int, RawBatch] = {}
        for event_type, key, value in events[start:start + BATCH]:
            partition = partition_of(key)
            offset = offsets.get((event_type, partition), 0)
            offsets[(event_type, partition)] = offset + 1
            raw = chunk.setdefault(partition if by_partition else 0, RawBatch())
            raw.add_kafka(event_type, event_type, partition, offset, key, value, 1_700_000_000_000, None)
        out += [chunk[k] for k in sorted(chunk)]
    return out


def single_store(settings: Settings) -> Lander:
    """One store deriving every customer (a lake setting, but no lake: what one pipeline on the file store does)."""
    con = open_working_store(settings)
    return build_lander(con, settings, pipeline_extensions(con, settings))


def owning_pipeline(settings: Settings, owned: list[int]) -> LakeLander:
    """A lake pipeline (the lake's hooks attached) that commits every batch but owns ``owned`` partitions of each
    topic: the customers it derives per batch and raises alerts for."""
    con = open_working_store(settings)
    ext = pipeline_extensions(con, settings)
    lake_con = duckdb.connect()
    attach_lake(lake_con, settings)
    lake = LakeLog(lake_con, settings.kafka.group_id, "pipeline-a")
    lake.ensure_log()
    for attach in ext.on_lake:
        attach(lake)
    lander = build_lander(con, settings, ext, LakeLander, log_=lake, sync_interval_s=3600.0)
    assert isinstance(lander, LakeLander)
    lake.claim([(t, p) for t in TOPICS for p in range(PARTITIONS)])
    own(lander.con, owned)
    return lander


def own(con: duckdb.DuckDBPyConnection, owned: list[int]) -> None:
    con.execute("delete from pipeline_partitions")
    con.executemany("insert into pipeline_partitions values (?, ?)", [(t, p) for t in TOPICS for p in owned])


def customers_on(con: duckdb.DuckDBPyConnection, partitions: list[int]) -> set[str]:
    return {c for (c,) in con.execute("select customer_id from health_state").fetchall()
            if partition_of(c.encode()) in partitions}


def states(con: duckdb.DuckDBPyConnection, customers: set[str], columns: str = "* exclude (refreshed_by)") -> dict:
    cur = con.execute(f"select customer_id, {columns} from health_state where customer_id in "
                      "(select unnest($c))", {"c": sorted(customers)})
    names = [d[0] for d in cur.description]
    return {r[0]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}


def without_norms_time(rows: dict) -> dict:
    return {c: {**row, "norms": {**row["norms"], "computed_at": None}} for c, row in rows.items()}


def changes(con: duckdb.DuckDBPyConnection, customers: set[str]) -> set[tuple[Any, ...]]:
    return set(con.execute("select customer_id, changed_at, from_segment, to_segment from segment_changes "
                           "where customer_id in (select unnest($c))", {"c": sorted(customers)}).fetchall())


def history(con: duckdb.DuckDBPyConnection, customers: set[str]) -> set[tuple[Any, ...]]:
    return set(con.execute("select customer_id, snapshot_at, segment, health_score, margin_90d from health_snapshots "
                           "where customer_id in (select unnest($c))", {"c": sorted(customers)}).fetchall())


def pending(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {c for (c,) in con.execute("select customer_id from health_pending").fetchall()}


def test_a_pipeline_derives_only_its_customers_per_batch_and_they_equal_a_single_stores(
    lake_catalog: str, tmp_path: Path,
) -> None:
    settings = settings_of(lake_catalog, tmp_path)
    single, pipeline = single_store(settings), owning_pipeline(settings, [0])
    feed = batches(tmp_path, by_partition=True)
    for raw in feed:
        single.land(raw, "kafka")
        pipeline.land(raw, "kafka")
    assert len(feed) > 2 * len(batches(tmp_path)), "most batches are of one partition"
    mine, others = customers_on(pipeline.con, [0]), customers_on(pipeline.con, [1, 2])
    assert mine and others
    waiting = pending(pipeline.con)
    assert waiting and waiting <= others, "only customers of partitions it does not own wait"
    # since the last full refresh (the day's rollover) their rows were not derived again
    last_full = pipeline.con.execute("select max(as_of) from health_refreshes where kind = 'full'").fetchone()[0]
    stale = pipeline.con.execute("select count(*) from health_state where customer_id in (select customer_id "
                                 "from health_pending) and as_of > $t", {"t": last_full}).fetchone()
    assert stale == (0,)
    assert states(pipeline.con, mine) == states(single.con, mine)
    assert changes(pipeline.con, mine) == changes(single.con, mine)
    # the customers it does not own differ: the single store derived the batches they waited through
    assert states(pipeline.con, waiting, ", ".join(WINDOW_SUMS)) != states(single.con, waiting, ", ".join(WINDOW_SUMS))


def test_a_gained_partitions_customers_equal_a_single_stores_before_the_alerts_read_them(
    lake_catalog: str, tmp_path: Path,
) -> None:
    settings = settings_of(lake_catalog, tmp_path)
    single, pipeline = single_store(settings), owning_pipeline(settings, [0])
    feed = batches(tmp_path)
    for raw in feed[:-1]:
        single.land(raw, "kafka")
        pipeline.land(raw, "kafka")
    gained = pending(pipeline.con) & customers_on(pipeline.con, [1])
    assert gained, "some customers of partition 1 wait"
    own(pipeline.con, [0, 1])  # a rebalance: partition 1 of every topic assigned
    alerts = QualityAndAlerts(pipeline.con, settings)
    keys = [("segment", c) for c in gained]
    assert alerts.raised_keys(pipeline.con, keys) == set(), "not evaluated while their health waits"

    pipeline.land(feed[-1], "kafka")
    single.land(feed[-1], "kafka")
    assert not gained & pending(pipeline.con)
    assert alerts.raised_keys(pipeline.con, keys) == set(keys)
    # the single store, every customer derived at the batch's time
    now = model_now(Statements(single.con))
    with transaction(single.con):
        HealthRefresher(settings.health).full_refresh(single.con, now)
    # the same norms, those of the day's point; a full refresh labels them with the point's time, the batches
    # (and the customers computed from the rollups) with the time they were recorded at
    assert without_norms_time(states(pipeline.con, gained)) == without_norms_time(states(single.con, gained))
    assert history(pipeline.con, gained) == history(single.con, gained)
    # The alerts' feed, change for change: the days they waited through were derived at each day's end (the
    # previous day's last batch), their paths at their event times.
    assert changes(pipeline.con, gained) == changes(single.con, gained)


def test_a_reader_opened_from_a_non_owning_leaders_checkpoint_answers_as_a_full_replay(
    lake_catalog: str, tmp_path: Path,
) -> None:
    settings = settings_of(lake_catalog, tmp_path)
    leader = owning_pipeline(settings, [0])  # owns customers[0]: the leader, which writes the checkpoints
    for raw in batches(tmp_path):
        leader.land(raw, "kafka")
    assert pending(leader.con), "the checkpoint holds customers the leader did not derive"
    write_checkpoint(leader.con, leader.lake, settings, leader.applied)

    def answers() -> tuple[LakeCopy, dict, dict]:
        copy = LakeCopy(settings)
        try:
            return copy, states(copy.con, customers_on(copy.con, list(range(PARTITIONS))), ", ".join(WINDOW_SUMS)), \
                portfolio(Statements(copy.con))
        finally:
            copy.close()

    from_checkpoint, checkpoint_states, checkpoint_portfolio = answers()
    assert from_checkpoint.checkpoint is not None and from_checkpoint.replayed == 0
    forget_checkpoints(settings)
    replay, replay_states, replay_portfolio = answers()
    assert replay.checkpoint is None
    assert checkpoint_states == replay_states
    assert checkpoint_portfolio == replay_portfolio
