"""The lake's log on a real PostgreSQL catalog: a batch and its offsets in one lake transaction, positions
after a restart, and a stale owner fenced after its partitions moved."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from customer_health.config import Settings
from customer_health.db import attach_lake, open_working_store
from ingest.lake import Fenced, LakeLander, LakeLog
from ingest.landing import RawBatch
from ingest.plugins import PipelineExtensions
from ingest.service import build_lander
from tests.conftest import REPO


def connect(catalog: str, tmp_path: Path) -> duckdb.DuckDBPyConnection:
    settings = Settings(store="ducklake").with_overrides(ducklake__catalog=catalog,
                                                         ducklake__data_path=str(tmp_path / "lake") + "/")
    con = duckdb.connect()
    con.execute("set timezone = 'UTC'")
    attach_lake(con, settings)
    return con


def batch(topic: str, partition: int, offsets: range) -> RawBatch:
    raw = RawBatch()
    for offset in offsets:
        raw.add_kafka("visits", topic, partition, offset, b"k", f'{{"n": {offset}}}'.encode(), 1_700_000_000_000, "tid")
    return raw


def claim_right_after(old: LakeLog, statement: str, new: LakeLog, partitions: list[tuple[str, int]]) -> None:
    """Make ``new`` claim ``partitions`` once, right after ``old`` runs its offset statement ``statement``
    (inside ``old``'s open transaction, before its commit)."""
    original_run = old._run_offsets
    claimed = False

    def run_then_claim(name: str, slot: str, params: Any = None) -> tuple[Any, ...] | None:
        nonlocal claimed
        found = original_run(name, slot, params)
        if name == statement and not claimed:
            claimed = True
            new.claim(partitions)
        return found

    old._run_offsets = run_then_claim  # type: ignore[method-assign]


def test_a_batch_and_its_offsets_commit_together_and_survive_a_new_connection(lake_catalog: str,
                                                                              tmp_path: Path) -> None:
    log = LakeLog(connect(lake_catalog, tmp_path), "g", "pipeline-a")
    log.ensure_log()
    assert log.claim([("visits", 0), ("visits", 1)])[("visits", 0)].next_offset is None
    first = log.commit(batch("visits", 0, range(0, 5)).to_arrow())
    log.commit(batch("visits", 1, range(0, 3)).to_arrow())
    log.commit(batch("visits", 0, range(5, 8)).to_arrow())

    again = LakeLog(connect(lake_catalog, tmp_path), "g", "pipeline-a")
    positions = again.positions()
    assert {p: (pos.next_offset, pos.owner) for p, pos in positions.items()} == {
        ("visits", 0): (8, "pipeline-a"), ("visits", 1): (3, "pipeline-a")}
    assert [n for _c, _p, n in again.commits()] == [5, 3, 3]
    messages = again.messages([first])
    assert messages.column("offset").to_pylist() == [0, 1, 2, 3, 4]
    assert messages.column("ordinal").to_pylist() == [0, 1, 2, 3, 4]
    assert messages.column("raw").to_pylist()[0] == b'{"n": 0}'


def test_a_stale_owner_is_fenced_once_another_pipeline_claimed_its_partition(lake_catalog: str,
                                                                             tmp_path: Path) -> None:
    old = LakeLog(connect(lake_catalog, tmp_path), "g", "old")
    old.ensure_log()
    old.claim([("visits", 0)])
    old.commit(batch("visits", 0, range(0, 4)).to_arrow())
    new = LakeLog(connect(lake_catalog, tmp_path), "g", "new")
    assert new.claim([("visits", 0)])[("visits", 0)].next_offset == 4
    with pytest.raises(Fenced, match=r"visits\[0\] is owned by new"):
        old.commit(batch("visits", 0, range(4, 9)).to_arrow())
    new.commit(batch("visits", 0, range(4, 6)).to_arrow())
    assert new.positions()[("visits", 0)].next_offset == 6
    assert sum(n for _c, _p, n in new.commits()) == 6


def test_a_commit_racing_a_claim_conflicts_and_its_retry_gives_the_batch_up(lake_catalog: str,
                                                                            tmp_path: Path) -> None:
    """The stale owner's transaction began before the claim committed: the lake's per-table conflict check
    fails its commit, and the retry finds the new owner."""
    old_con = connect(lake_catalog, tmp_path)
    old = LakeLog(old_con, "g", "old")
    old.ensure_log()
    old.claim([("visits", 0)])
    new = LakeLog(connect(lake_catalog, tmp_path), "g", "new")
    new._ensure_partitions([("visits", 0)])
    # the claim commits between the stale owner's update and its commit
    claim_right_after(old, "lake/advance_partition_offsets", new, [("visits", 0)])
    with pytest.raises(Fenced):
        old.commit(batch("visits", 0, range(0, 4)).to_arrow())
    assert old.conflicts == 1
    assert new.commits() == []
    assert new.positions()[("visits", 0)].owner == "new"


def test_lake_maintain_merges_files_and_expires_snapshots_keeping_every_message_and_offset(
    lake_catalog: str, tmp_path: Path,
) -> None:
    log = LakeLog(connect(lake_catalog, tmp_path), "g", "pipeline-a")
    log.ensure_log()
    log.claim([("visits", 0)])
    for start in range(0, 400, 40):
        log.commit(batch("visits", 0, range(start, start + 40)).to_arrow())
    config = tmp_path / "config.toml"
    config.write_text(f'store = "ducklake"\n[ducklake]\ncatalog = "{lake_catalog}"\n'
                      f'data_path = "{tmp_path / "lake"}/"\n[kafka]\ngroup_id = "g"\n', encoding="utf-8")
    files_before = len(list((tmp_path / "lake").rglob("*.parquet")))

    def maintain() -> dict:
        result = subprocess.run([sys.executable, "-m", "customer_health.cli", "lake-maintain", "--older-than-hours",
                                 "0", "--config", str(config), "--json"], capture_output=True, text=True, cwd=REPO,
                                timeout=120)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    first = maintain()
    assert first["steps"]["merge_files"] >= 1 and first["steps"]["expire_snapshots"] >= 1, first
    # The files the first run replaced are deleted by the next one (a reader may still scan them meanwhile).
    second = maintain()
    assert second["steps"]["cleanup_files"] >= 1, second
    assert len(list((tmp_path / "lake").rglob("*.parquet"))) < files_before
    after = LakeLog(connect(lake_catalog, tmp_path), "g", "pipeline-a")
    assert after.positions()[("visits", 0)].next_offset == 400
    offsets = after.messages([c for c, _p, _n in after.commits()]).column("offset").to_pylist()
    assert offsets == list(range(400))
    after.commit(batch("visits", 0, range(400, 410)).to_arrow())  # pipelines go on committing
    assert after.positions()[("visits", 0)].next_offset == 410


def test_lake_maintain_on_the_file_store_is_a_clear_error(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "customer_health.cli", "lake-maintain", "--db",
                             str(tmp_path / "x.duckdb")], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode != 0
    assert 'lake-maintain needs store = "ducklake"' in result.stderr


def test_a_fenced_batch_is_a_result_marked_fenced_and_lands_nothing(lake_catalog: str, tmp_path: Path) -> None:
    settings = Settings(store="ducklake")
    old = LakeLog(connect(lake_catalog, tmp_path), "g", "old")
    old.ensure_log()
    old.claim([("visits", 0)])
    lander = build_lander(open_working_store(settings), settings, PipelineExtensions(), LakeLander, log_=old)
    first = lander.land(batch("visits", 0, range(0, 3)), "kafka")  # not visits: dead-lettered, a landed batch
    assert not first.fenced and first.messages == 3 and first.dead_lettered == 3
    batches = lander.con.execute("select count(*) from ingest_batches").fetchone()
    LakeLog(connect(lake_catalog, tmp_path), "g", "new").claim([("visits", 0)])
    result = lander.land(batch("visits", 0, range(3, 8)), "kafka")
    assert result.fenced and result.messages == 5 and result.landed == result.dead_lettered == 0
    assert lander.con.execute("select count(*) from dead_letter").fetchone() == (3,)
    assert lander.con.execute("select count(*) from ingest_batches").fetchone() == batches
    assert old.positions()[("visits", 0)].next_offset == 3


def plugin_rows(log: LakeLog) -> list[tuple[Any, ...]]:
    return log.read(lambda con: con.execute("select * from lake.plugin_state order by n").fetchall())


def test_a_plugins_state_commits_only_while_its_pipeline_owns_the_partitions(lake_catalog: str,
                                                                            tmp_path: Path) -> None:
    """commit_owned: the state (alerts) of a pipeline that lost a partition is not committed, also when the
    claim commits between its check of the partition and its commit."""
    old = LakeLog(connect(lake_catalog, tmp_path), "g", "old")
    old.ensure_log()
    old.commit_owned((), lambda con: con.execute("create table lake.plugin_state (n integer)"))
    old.claim([("visits", 0), ("visits", 1)])
    old.commit_owned([("visits", 0), ("visits", 1)],
                     lambda con: con.execute("insert into lake.plugin_state values (1)"))
    new = LakeLog(connect(lake_catalog, tmp_path), "g", "new")
    new.claim([("visits", 1)])
    with pytest.raises(Fenced, match=r"visits\[1\] is owned by new"):
        old.commit_owned([("visits", 0), ("visits", 1)],
                         lambda con: con.execute("insert into lake.plugin_state values (2)"))
    assert plugin_rows(old) == [(1,)]

    # the claim commits between the old owner's hold and its commit
    claim_right_after(old, "lake/hold_partition_offsets", new, [("visits", 0)])
    conflicts = old.conflicts
    with pytest.raises(Fenced):
        old.commit_owned([("visits", 0)], lambda con: con.execute("insert into lake.plugin_state values (3)"))
    assert old.conflicts == conflicts + 1
    assert plugin_rows(new) == [(1,)]
