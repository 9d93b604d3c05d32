"""A history landed after the fact (a first load, the demo's backfill) drifts at once: a full refresh
reconstructs, from the rollup, the snapshots drift and score changes are measured from; on a real DuckDB file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.health_world import AS_OF, World, ago, charge, ordinary_portfolio, profile

BACK = [AS_OF - timedelta(days=d) for d in (30, 14, 7)]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


def slide() -> list[tuple[str, dict]]:
    """100 EUR charged 95 days ago (inside the 90-day window 14 days back, outside today's), 20 EUR 5 days ago."""
    return [profile("slide"), charge("s-old", "slide", ago(days=95), 100), charge("s-new", "slide", ago(days=5), 20)]


def reconstructed(world: World, customer_id: str) -> dict[datetime, tuple[float, str, float]]:
    rows = world.con.execute(
        "select snapshot_at, health_score, segment, margin_90d from health_snapshots "
        "where customer_id = ? and reason = 'reconstructed' order by snapshot_at", [customer_id]).fetchall()
    return {at: (score, segment, margin) for at, score, segment, margin in rows}


def test_a_history_landed_at_once_drifts_at_its_first_refresh(world: World) -> None:
    result = world.land_and_refresh(*ordinary_portfolio(), *slide())
    assert (result.kind, result.reason) == ("full", "first")
    row = world.maintained()["slide"]
    # margin 20 now, 100 fourteen days ago: -80/14 a day, 0 in 20 / (80/14) = 3.5 days
    assert row["margin_90d"] == 20.0
    assert row["drifting_toward"] == "unprofitable" and row["days_to_threshold"] == 3.5
    # what the pipeline would have stored then: the point-in-time health (customer --as-of) at each instant
    snaps = reconstructed(world, "slide")
    assert list(snaps) == BACK
    for at, (score, segment, margin) in snaps.items():
        past = world.computed(at)["slide"]
        assert (score, segment, margin) == (pytest.approx(past["health_score"]), past["segment"],
                                            pytest.approx(past["margin_90d"]))
    assert snaps[BACK[1]][2] == 100.0
    # first segments stay first segments: the reconstructed ones are no baseline for a segment change
    changes = world.con.execute("select from_segment from segment_changes where customer_id = 'slide'").fetchall()
    assert changes == [(None,)]


def test_snapshots_taken_back_then_are_not_reconstructed(world: World) -> None:
    world.snapshot("slide", AS_OF - timedelta(days=20), score=70.0, margin=60.0)
    world.land_and_refresh(*ordinary_portfolio(), *slide())
    assert list(reconstructed(world, "slide")) == [BACK[0]]   # 30 days back only: none was taken then
    row = world.maintained()["slide"]
    # from the taken snapshot, the latest at least 14 days old: (60 - 20) / 20 = 2 a day, 0 in 10 days
    assert row["drifting_toward"] == "unprofitable" and row["days_to_threshold"] == 10.0


def test_a_full_refresh_derives_them_again_from_the_history_landed_since(world: World) -> None:
    world.land_and_refresh(*ordinary_portfolio(), profile("slide"), charge("s-new", "slide", ago(days=5), 20))
    assert world.maintained()["slide"]["drifting_toward"] is None   # 0 fourteen days back, 20 now: rising
    assert world.land_and_refresh(charge("s-old", "slide", ago(days=95), 100)).kind == "incremental"
    assert world.maintained()["slide"]["drifting_toward"] is None   # an incremental refresh keeps the references
    later = AS_OF + timedelta(minutes=1)
    world.full_refresh(later)
    row = world.maintained()["slide"]
    assert row["drifting_toward"] == "unprofitable" and row["days_to_threshold"] == 3.5
    snaps = reconstructed(world, "slide")   # derived again, not added to
    assert list(snaps) == [at + timedelta(minutes=1) for at in BACK]
    assert snaps[BACK[1] + timedelta(minutes=1)][2] == 100.0


def test_other_full_refreshes_derive_them_again_only_after_history_landed(tmp_path: Path) -> None:
    world = World(tmp_path, norms_max_age_minutes=30.0)
    try:
        world.land_and_refresh(*ordinary_portfolio(), profile("slide"), charge("s-new", "slide", ago(days=5), 20))
        ids = "select list(snapshot_id order by snapshot_id) from health_snapshots where reason = 'reconstructed'"
        first = world.con.execute(ids).fetchone()
        # live events only (today's), then the hourly norms refresh: nothing to derive again
        world.land_and_refresh(charge("s-live", "slide", ago(hours=1), 5), now=AS_OF + timedelta(minutes=1))
        result = world.land_and_refresh(charge("o-live", "o1", ago(hours=1), 5), now=AS_OF + timedelta(minutes=40))
        assert (result.kind, result.reason) == ("full", "norms_age")
        assert world.con.execute(ids).fetchone() == first
        # an old charge lands (a backfill): the next full refresh derives them again, with it
        world.land_and_refresh(charge("s-old", "slide", ago(days=95), 100), now=AS_OF + timedelta(minutes=41))
        later = AS_OF + timedelta(minutes=80)
        result = world.land_and_refresh(charge("o-live2", "o2", ago(hours=1), 5), now=later)
        assert (result.kind, result.reason) == ("full", "norms_age")
        assert world.con.execute(ids).fetchone() != first
        assert reconstructed(world, "slide")[later - timedelta(days=14)][2] == 100.0
        assert world.maintained()["slide"]["drifting_toward"] == "unprofitable"
    finally:
        world.close()


def test_switched_off_nothing_is_reconstructed_and_drift_waits_for_taken_snapshots(tmp_path: Path) -> None:
    world = World(tmp_path, reconstruct_snapshots=False)
    try:
        world.land_and_refresh(*ordinary_portfolio(), *slide())
        assert world.con.execute(
            "select count(*) from health_snapshots where reason = 'reconstructed'").fetchone() == (0,)
        assert world.maintained()["slide"]["drifting_toward"] is None
    finally:
        world.close()
