"""The lake's log on a real PostgreSQL catalog: a batch and its offsets in one lake transaction, positions
after a restart, and a stale owner fenced after its partitions moved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from customer_health.config import Settings
from customer_health.db import attach_lake
from ingest.lake import Fenced, LakeLog
from ingest.landing import RawBatch


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
    claimed = False

    original_run = old._run_offsets

    def advance_then_let_the_claim_commit(name: str, slot: str, params: Any = None) -> tuple[Any, ...] | None:
        nonlocal claimed
        found = original_run(name, slot, params)
        if name == "lake/advance_partition_offsets" and not claimed:
            claimed = True
            new.claim([("visits", 0)])  # commits between the stale owner's update and its commit
        return found

    old._run_offsets = advance_then_let_the_claim_commit  # type: ignore[method-assign]
    with pytest.raises(Fenced):
        old.commit(batch("visits", 0, range(0, 4)).to_arrow())
    assert old.conflicts == 1
    assert new.commits() == []
    assert new.positions()[("visits", 0)].owner == "new"
