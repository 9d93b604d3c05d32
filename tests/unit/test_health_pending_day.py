"""store = "ducklake" with derive_owned_only: the customers another pipeline owns wait in health_pending, and
before the first refresh of a new UTC day they are derived as of the previous day's last refresh
(HealthRefresher._finish_pending_day), once; not within the day, not when none waits."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from customer_health.health.refresh import HealthRefresher
from tests.health_world import World, iso, profile, seen

DAY1 = datetime(2026, 11, 18, 10, 0)  # naive UTC


def day_end_refreshes(world: World) -> list[tuple[datetime, int]]:
    return world.con.execute("select as_of, customers from health_refreshes where reason = 'pending_day_end' "
                             "order by as_of").fetchall()


def pending(world: World) -> set[str]:
    return {c for (c,) in world.con.execute("select customer_id from health_pending").fetchall()}


def visits(world: World, customer_id: str) -> int:
    row = world.con.execute("select visits_90d from health_state where customer_id = ?", [customer_id]).fetchone()
    assert row is not None
    return int(row[0])


def test_the_pending_customers_are_derived_once_at_the_days_end_and_only_then(tmp_path: Path) -> None:
    world = World(tmp_path)
    try:
        world.refresher = HealthRefresher(world.health, owned_only=True)
        # this pipeline owns partition 0 of every topic (it leads); "theirs" lives on partition 1
        world.con.execute("insert into pipeline_partitions select unnest(['customers', 'tickets', 'payments', "
                          "'visits']), 0")
        world.con.execute("insert into customer_partitions values ('mine', 'customers', 0), "
                          "('theirs', 'customers', 1)")
        first = world.land(profile("mine", occurred_at=iso(DAY1 - timedelta(days=30))),
                           profile("theirs", occurred_at=iso(DAY1 - timedelta(days=30))),
                           seen("v1", "mine", iso(DAY1)), seen("v2", "theirs", iso(DAY1)))
        assert world.refresh(first, DAY1).kind == "full"  # the first refresh derives everyone
        assert pending(world) == set()

        noon = DAY1 + timedelta(hours=2)
        assert world.refresh(world.land(seen("v3", "theirs", iso(noon))), noon).kind == "incremental"
        assert pending(world) == {"theirs"}  # touched, not owned: waits, not derived
        assert visits(world, "theirs") == 1
        later = noon + timedelta(hours=3)
        world.refresh(world.land(seen("v4", "mine", iso(later))), later)
        assert day_end_refreshes(world) == []  # within the day: nothing derived for the day's end
        assert pending(world) == {"theirs"}

        morning = datetime(2026, 11, 19, 9, 0)
        result = world.refresh(world.land(seen("v5", "mine", iso(morning))), morning)
        # before the new day's first refresh: "theirs" derived as of the previous day's last refresh, once
        assert day_end_refreshes(world) == [(later, 1)]
        assert result.kind == "full"  # then the day's rollover derives everyone
        assert pending(world) == set()
        assert visits(world, "theirs") == 2

        next_morning = morning + timedelta(days=1)
        world.refresh(world.land(seen("v6", "mine", iso(next_morning))), next_morning)
        assert day_end_refreshes(world) == [(later, 1)]  # a new day with no one pending: none
    finally:
        world.close()
