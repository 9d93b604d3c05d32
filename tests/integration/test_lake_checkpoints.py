"""store = "ducklake", real engines: the leader's checkpoints of its working store. A reader or a starting
pipeline opened from the newest checkpoint plus the commits after it answers as one that replays the whole
lake; a checkpoint of other [health] settings, or one whose writer died before its manifest row, is not read;
a complete one removes the superseded ones but the one before it."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from customer_health import composition
from customer_health.composition import LakeCopy
from customer_health.config import Settings, load_settings
from customer_health.db import attach_lake
from customer_health.health.queries import customers_summary, parse_as_of, portfolio
from customer_health.sqlfiles import Statements
from ingest import checkpoint as checkpoints
from ingest.service import attach_lake_log, run_pipeline
from tests.conftest import Env, produce, stop_process, wait_until
from tests.integration.test_lake_dashboard_source import commit_customers, lake_settings, pipeline_a_log
from tests.integration.test_lake_pipelines import (
    AS_OF,
    lake_config,
    lake_messages,
    readers_answers,
    simulated_events,
    start,
)


def with_checkpoints(config: Path, interval_s: float, name: str | None = None) -> Path:
    """``config`` with ducklake.checkpoint_interval_s set (as ``name``.toml, else in place); the table suites
    and churn fits left to their hour-long schedule, so that what a store holds comes from the events only."""
    text = config.read_text(encoding="utf-8")
    text = text.replace("sync_interval_s = 0.5\n", f"sync_interval_s = 0.5\ncheckpoint_interval_s = {interval_s}\n")
    text = text.replace("[pipeline]\n", "[pipeline]\nschedule_interval_s = 3600.0\n")
    path = config if name is None else config.with_name(f"{name}.toml")
    path.write_text(text, encoding="utf-8")
    return path


def manifest(settings: Settings) -> list[tuple[str, str]]:
    """(checkpoint id, path) of every row of the lake's checkpoint manifest, oldest first."""
    con = duckdb.connect()
    attach_lake(con, settings)
    try:
        if "checkpoints" not in {n for (n,) in con.execute(
                "select table_name from duckdb_tables() where database_name = 'lake'").fetchall()}:
            return []
        return [(str(i), str(p)) for i, p in con.execute(
            "select checkpoint_id, path from lake.checkpoints order by created_at").fetchall()]
    finally:
        con.close()


def forget_checkpoints(settings: Settings) -> None:
    """The lake as if no checkpoint had been written: its manifest emptied (readers replay the whole lake)."""
    con = duckdb.connect()
    attach_lake(con, settings)
    try:
        con.execute("delete from lake.checkpoints")
    finally:
        con.close()


@dataclass
class Lake:
    config: Path  # checkpoints at a clean stop (interval an hour)
    settings: Settings
    messages: int
    first: str  # the checkpoint pipeline A wrote when it stopped


def lake_with_a_checkpoint_and_later_commits(env: Env, catalog: str) -> Lake:
    """Pipeline A lands the first half of a population's events and stops cleanly (its stop writes a checkpoint);
    pipeline B, which writes none, lands the second half: commits after the checkpoint."""
    env.create_topics()
    messages = simulated_events(env.tmp, customers=40, seed=13)
    no_checkpoints = with_checkpoints(lake_config(env, catalog), 0.0, "no-checkpoints")
    config = with_checkpoints(lake_config(env, catalog), 3600.0)
    half = len(messages) // 2
    for pipeline_config, upto, log in ((config, half, "a"), (no_checkpoints, len(messages), "b")):
        produce(env, messages[len(lake_messages(config)):upto])
        pipeline = start(pipeline_config, env.tmp / f"{log}.log")
        try:
            wait_until(lambda upto=upto: len(lake_messages(config)) >= upto, timeout=240,
                       message=f"pipeline {log} committed {upto} messages to the lake")
        finally:
            assert stop_process(pipeline) == 0, (env.tmp / f"{log}.log").read_text()[-3000:]
        if log == "a":
            settings = load_settings(config, env={})
            written = manifest(settings)
            assert len(written) == 1, (env.tmp / "a.log").read_text()[-3000:]
    assert len(lake_messages(config)) == len(messages)
    assert settings.ducklake.checkpoint_interval_s == 3600.0
    assert manifest(settings) == written, "pipeline B (checkpoint_interval_s = 0) wrote no checkpoint"
    return Lake(config, settings, len(messages), written[0][0])


def opened_from(settings: Settings) -> tuple[str | None, int]:
    """The checkpoint a new reader's copy opens from (None: a full replay) and the messages it landed from the lake."""
    copy = LakeCopy(settings)
    try:
        return (copy.checkpoint.checkpoint_id if copy.checkpoint else None), copy.replayed
    finally:
        copy.close()


def test_a_reader_opened_from_a_checkpoint_and_later_commits_answers_as_a_full_replay(
    env: Env, lake_catalog: str,
) -> None:
    lake = lake_with_a_checkpoint_and_later_commits(env, lake_catalog)
    checkpoint, replayed = opened_from(lake.settings)
    assert checkpoint == lake.first
    assert 0 < replayed < lake.messages, "only the commits after the checkpoint are landed from the lake"
    from_checkpoint = readers_answers(lake.config)

    forget_checkpoints(lake.settings)
    assert opened_from(lake.settings) == (None, lake.messages)
    full_replay = readers_answers(lake.config)
    for key in full_replay:
        assert from_checkpoint[key] == full_replay[key], f"{key} differs between a checkpoint and a full replay"


def pipeline_answers(settings: Settings, caplog: pytest.LogCaptureFixture) -> tuple[dict[str, Any], bool]:
    """A pipeline started in this process on the lake, once it owns every partition: its working store's health
    (customers as of AS_OF, the portfolio) and whether it opened from a checkpoint; then stopped."""
    stores: list[duckdb.DuckDBPyConnection] = []

    def extensions(con: duckdb.DuckDBPyConnection, s: Settings) -> Any:
        stores.append(con)
        return composition.pipeline_extensions(con, s)

    caplog.clear()
    stop = threading.Event()
    pipeline = threading.Thread(target=run_pipeline, args=(settings, stop), kwargs={
        "extensions": extensions, "finish_history": composition.finish_load,
        "settle_checkpoint": composition.settle_checkpoint, "install_signal_handlers": False})
    pipeline.start()
    try:
        def owned() -> int:
            if not stores:
                return 0
            with stores[0].cursor() as cur:
                return int(cur.execute("select count(*) from pipeline_partitions").fetchone()[0])
        wait_until(lambda: owned() == 4 * 3, timeout=180, message="the pipeline took over every partition")

        def read() -> dict[str, Any]:
            with stores[0].cursor() as cur:
                db = Statements(cur, prepare=False)
                return {"dirty": db.row("health/history_dirty")[0],
                        "customers": customers_summary(db, settings, None, parse_as_of(AS_OF)),
                        "portfolio": portfolio(db)}
        # Settled: no history waiting for a rebuild, and the same answers twice in a row (the pipeline may still
        # be finishing what its start began when it owns every partition).
        reads = [read()]

        def settled() -> bool:
            reads.append(read())
            return not reads[-1]["dirty"] and reads[-1] == reads[-2]
        wait_until(settled, timeout=180, interval=2.0, message="the pipeline's model settled")
        answers = {key: value for key, value in reads[-1].items() if key != "dirty"}
    finally:
        stop.set()
        pipeline.join(120)
    assert not pipeline.is_alive()
    from_checkpoint = any("loaded from checkpoint" in r.getMessage() for r in caplog.records)
    return answers, from_checkpoint


def test_a_pipeline_started_after_a_checkpoint_takes_over_with_the_health_of_a_full_replay(
    env: Env, lake_catalog: str, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="ingest")
    lake = lake_with_a_checkpoint_and_later_commits(env, lake_catalog)
    from_checkpoint, used = pipeline_answers(lake.settings, caplog)
    assert used, "the pipeline opened from the checkpoint"
    assert len(manifest(lake.settings)) == 2, "its clean stop wrote a checkpoint (it was the leader)"

    forget_checkpoints(lake.settings)
    full_replay, used = pipeline_answers(lake.settings.with_overrides(ducklake__checkpoint_interval_s=0.0), caplog)
    assert not used
    assert from_checkpoint["customers"] and from_checkpoint["customers"] == full_replay["customers"]
    assert from_checkpoint["portfolio"] == full_replay["portfolio"]


def test_a_checkpoint_of_other_health_settings_is_not_read(env: Env, lake_catalog: str) -> None:
    lake = lake_with_a_checkpoint_and_later_commits(env, lake_catalog)
    other = lake.config.with_name("other-health.toml")
    text = lake.config.read_text(encoding="utf-8")
    other.write_text(text.replace("[health]\n", "[health]\nsupport_reference_floor_minutes = 45.0\n"), encoding="utf-8")
    other_settings = load_settings(other, env={})
    assert other_settings.health.support_reference_floor_minutes != lake.settings.health.support_reference_floor_minutes
    assert opened_from(other_settings) == (None, lake.messages), "a full replay with the other settings"
    assert opened_from(lake.settings)[0] == lake.first, "the settings it was written with read it"


def test_a_checkpoint_whose_writer_died_before_its_manifest_row_is_not_read(
    env: Env, lake_catalog: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    lake = lake_with_a_checkpoint_and_later_commits(env, lake_catalog)
    # A newer checkpoint, of every commit, whose writer dies after its tables' files, before the rest.
    copy = LakeCopy(lake.settings)
    try:
        real = checkpoints._templated

        def dies_at_the_commits(name: str, **tokens: str) -> str:
            if name == "lake/checkpoint_write_commits":
                raise OSError("the writer died")
            return real(name, **tokens)
        monkeypatch.setattr(checkpoints, "_templated", dies_at_the_commits)
        lake_log = attach_lake_log(lake.settings, "dying-writer")
        try:
            with pytest.raises(OSError, match="the writer died"):
                checkpoints.write_checkpoint(copy.con, lake_log, lake.settings, copy.applied)
        finally:
            lake_log.con.close()
        monkeypatch.undo()
    finally:
        copy.close()
    root = Path(checkpoints.checkpoints_root(lake.settings))
    half_written = [d for d in root.iterdir() if d.name != lake.first]
    assert len(half_written) == 1 and list(half_written[0].glob("*.parquet")), "its tables' files were written"
    assert [i for i, _p in manifest(lake.settings)] == [lake.first], "no manifest row for it"
    checkpoint, replayed = opened_from(lake.settings)
    assert checkpoint == lake.first and 0 < replayed < lake.messages, "the complete one is read, not the newer"


def test_a_complete_checkpoint_removes_all_but_the_two_newest_rows_and_files(lake_catalog: str, tmp_path: Path) -> None:
    settings = lake_settings(lake_catalog, tmp_path)
    log = pipeline_a_log(settings)
    try:
        offset = commit_customers(log, 0, 3, 0)
        written = []
        for round_ in range(3):
            copy = LakeCopy(settings)
            try:
                written.append(checkpoints.write_checkpoint(copy.con, log, settings, copy.applied))
            finally:
                copy.close()
            offset = commit_customers(log, 3 * (round_ + 1), 3, offset)
    finally:
        log.con.close()
    assert [i for i, _p in manifest(settings)] == [c.checkpoint_id for c in written[1:]]
    assert not Path(written[0].path).exists(), "the superseded checkpoint's files are deleted"
    assert all(list(Path(c.path).glob("*.parquet")) for c in written[1:]), "the previous one is kept for its readers"
    checkpoint, replayed = opened_from(settings)
    assert checkpoint == written[-1].checkpoint_id and replayed == 9, "the newest, then the commit after it"
