"""The history grid derived in one pass (health.history.derive_grid, sql/60_marts/11_health_history_grid.sql)
equals the point-by-point derivation (derive_points: health_computed at each point, chained from the stored
points before it) and the as-of evaluation (`customers --as-of`), on every stored point and every column
the history stores (health_snapshots but its id, which only has to follow (point, customer) order, and
health_history_norms), on small random histories on a real DuckDB file: events at 00:00 UTC of a point
exactly, escalations, refunds, overdue invoices, profile changes and cancellations inside the window, a
customer whose profile arrives mid-window; the whole window and a rebuild from a day inside it.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customer_health.health.history import derive_points, rebuild_history, window_points
from customer_health.health.params import health_params
from customer_health.sqlfiles import Statements
from tests.health_world import AS_OF, World, charge, iso, ordinary_portfolio, profile, seen, tick

POINT = datetime.combine(AS_OF.date(), datetime.min.time())
DAYS = 12
SNAPSHOT = ("customer_id", "snapshot_at", "reason", "health_score", "segment", "previous_segment", "components",
            "revenue_90d", "cost_to_serve_90d", "margin_90d", "complaint_index_90d", "support_minutes_90d",
            "segment_reason")


def random_history(rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    """Events of 6 customers over the 120 days before AS_OF (so that the points' 30 and 90 day windows start
    after some of them: the running totals looked up before each window); a fifth of them at 00:00 UTC exactly,
    most in the last 20 days."""
    events: list[tuple[str, dict[str, Any]]] = []
    start = AS_OF - timedelta(days=120)
    for c in range(6):
        cid = f"g{c}"
        joined = start if c < 5 else POINT - timedelta(days=rng.randrange(2, DAYS))  # g5 joins mid-window
        events.append(profile(cid, occurred_at=iso(joined)))
        if rng.random() < 0.5:  # a plan change, or a cancellation, inside the window
            at = POINT - timedelta(days=rng.randrange(1, DAYS))
            change = {"cancelled_at": iso(at)} if rng.random() < 0.5 else {"plan": "premium"}
            events.append(profile(cid, occurred_at=iso(at), **change))
    # days back from the last point: most in the last 20, some where the points' 30 and 90 day windows start
    days = [rng.uniform(0, 20) for _ in range(rng.randrange(25, 60))]
    days += [rng.uniform(28, 28 + DAYS + 2) for _ in range(40)] + [rng.uniform(88, 88 + DAYS + 2) for _ in range(25)]
    for i, back in enumerate(days):
        cid = f"g{rng.randrange(6)}"
        at = POINT - timedelta(days=int(back)) if rng.random() < 0.2 else POINT - timedelta(days=back)
        when = iso(at)
        k = rng.random()
        if k < 0.35:
            events.append(tick(f"e{i}", cid, when, f"T{i}", rng.choice(["complaint", "bug", "legal_threat", "how_to"]),
                               round(rng.uniform(0, 120), 1), escalated=rng.random() < 0.3,
                               compensation_requested=rng.choice([0, 0, 25])))
        elif k < 0.7:
            due = iso(at + timedelta(days=rng.choice([1, 3, 10])))
            events.append(charge(f"e{i}", cid, when, round(rng.uniform(1, 150), 2), invoice_id=f"I{i}", due_at=due,
                                 kind=rng.choice(["charge", "charge", "charge", "refund"]),
                                 status=rng.choice(["succeeded", "succeeded", "failed", "pending"])))
        else:
            events.append(seen(f"e{i}", cid, when))
    return events


def history(world: World) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The stored history, once its snapshot ids are checked distinct and in (point, customer) order."""
    misordered, duplicates = world.con.execute(
        "select count(*) filter (where expected <> got), count(*) - count(distinct snapshot_id) from (select "
        "snapshot_id, row_number() over (order by snapshot_at, customer_id) as expected, row_number() over "
        "(order by snapshot_id) as got from health_snapshots)").fetchone() or (None, None)
    assert (misordered, duplicates) == (0, 0)
    rows = world.con.execute(f"select {', '.join(SNAPSHOT)} from health_snapshots order by snapshot_at, "
                             "customer_id").fetchall()
    norms = world.con.execute("select * from health_history_norms order by as_of").fetchall()
    return rows, norms


def in_one_pass(world: World, since: datetime | None) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    world.con.execute("begin")
    rebuild_history(world.con, world.settings, since.date() if since else None, now=AS_OF)
    world.con.execute("commit")
    return history(world)


def point_by_point(world: World, since: datetime | None) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    run = Statements(world.con)
    points = window_points(run, world.health, AS_OF)
    points = [p for p in points if since is None or p >= since]
    world.con.execute("begin")
    run.run("health/history_delete_points", {"since": points[0]})
    run.run("health/history_delete_norms", {"since": points[0]})
    derive_points(run, health_params(world.health), points)
    world.con.execute("commit")
    return history(world)


def as_of_evaluation(world: World, at: datetime) -> list[tuple[Any, ...]]:
    """The rows `customers --as-of at` gives, in the history's columns."""
    rows = world.computed(at)
    return [(cid, at, "daily", r["health_score"], r["segment"], r["baseline_segment"], r["components"],
             r["revenue_90d"], r["cost_to_serve_90d"], r["margin_90d"], r["complaint_index_90d"],
             float(r["support_minutes_90d"]), r["segment_reason"]) for cid, r in sorted(rows.items())]


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 100_000))
def test_the_one_pass_history_equals_the_point_by_point_and_as_of_evaluation(tmp_path_factory: Any,
                                                                             seed: int) -> None:
    rng = random.Random(seed)
    world = World(tmp_path_factory.mktemp("grid"), history_days=DAYS)
    try:
        world.land(*ordinary_portfolio(), *random_history(rng))
        world.con.execute("begin")
        world.refresher.rebuild_rollups(world.con)  # the days before each point come from the rollups
        world.con.execute("commit")
        assert world.con.execute("select count(*) from customer_day").fetchone() != (0,)
        since = POINT - timedelta(days=rng.randrange(1, DAYS - 1))
        for start in (None, since):
            grid_rows, grid_norms = in_one_pass(world, start)
            point_rows, point_norms = point_by_point(world, start)
            assert len({r[1] for r in grid_rows}) == DAYS
            assert grid_rows == point_rows, start
            assert grid_norms == point_norms, start
            in_one_pass(world, start)
            for at in sorted({r[1] for r in grid_rows}):
                assert [r for r in grid_rows if r[1] == at] == as_of_evaluation(world, at), at
        # the random history does reach what the grid computes separately
        assert {r[4] for r in grid_rows} - {"healthy"}, "only healthy customers: the history tests nothing"
    finally:
        world.close()
