"""Event-time determinism of the live state: the same events landed in one batch, or in another order split
into batches, all refreshed at one instant, give the same current state (segment, score), the same segment
changes (customer, changed_at, from, to) and the same history points.

A random small history of a few days, most of it on the refresh's own day (where the confirmed segment's path
steps at each event), through the real Lander and HealthRefresher.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.health_world import AS_OF, World, charge, iso, ordinary_portfolio, profile, seen, tick

CUSTOMERS = ("d0", "d1", "d2")
DAY_START = AS_OF.replace(hour=0, minute=0)


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[str, dict[str, Any]]]:
    """Profiles, then events of every kind: a few on the days before, most on the refresh's day (times on a
    minute grid, so some coincide)."""
    events: list[tuple[str, dict[str, Any]]] = [*ordinary_portfolio(), *(profile(cid) for cid in CUSTOMERS)]
    for cid in CUSTOMERS:   # a customer with some revenue and visits before the day
        events += [charge(f"{cid}-base", cid, iso(AS_OF - timedelta(days=4)), 100),
                   seen(f"{cid}-seen", cid, iso(AS_OF - timedelta(days=3)))]
    n = draw(st.integers(4, 14))
    for i in range(n):
        cid = draw(st.sampled_from(CUSTOMERS))
        earlier = draw(st.integers(0, 4)) == 0
        when = (AS_OF - timedelta(days=draw(st.integers(1, 5)), minutes=draw(st.integers(0, 600))) if earlier
                else DAY_START + timedelta(minutes=draw(st.integers(1, 12 * 60))))
        at, kind = iso(when), draw(st.sampled_from(["ticket", "complaint", "charge", "refund", "visit"]))
        eid = f"x{i}"
        if kind == "ticket":
            events.append(tick(eid, cid, at, f"T{eid}", "bug", draw(st.sampled_from([30, 90, 150])),
                               escalated=draw(st.booleans())))
        elif kind == "complaint":
            events.append(tick(eid, cid, at, f"T{eid}", "complaint", 5))
        elif kind in {"charge", "refund"}:
            events.append(charge(eid, cid, at, draw(st.sampled_from([20, 60, 120])), kind=kind))
        else:
            events.append(seen(eid, cid, at))
    return events


def outcome(world: World) -> tuple[list[Any], list[Any], list[Any]]:
    con = world.con
    return (
        con.execute("select customer_id, segment, health_score from health_state order by all").fetchall(),
        con.execute("select customer_id, changed_at, from_segment, to_segment from segment_changes "
                    "order by all").fetchall(),
        con.execute("select customer_id, snapshot_at, segment, health_score, margin_90d from health_snapshots "
                    "order by all").fetchall(),
    )


def landed(events: list[tuple[str, dict[str, Any]]], batches: list[list[int]]) -> tuple[list[Any], ...]:
    with tempfile.TemporaryDirectory() as tmp:
        world = World(Path(tmp))
        try:
            for batch in batches:
                world.land_and_refresh(*(events[i] for i in batch), now=AS_OF)
            return outcome(world)
        finally:
            world.close()


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_one_batch_or_any_order_and_split_give_the_same_state_and_history(data: st.DataObject) -> None:
    events = data.draw(histories())
    order = data.draw(st.permutations(range(len(events))))
    cuts = sorted(data.draw(st.sets(st.integers(1, len(events) - 1), min_size=1, max_size=5)))
    split = [list(order[a:b]) for a, b in zip([0, *cuts], [*cuts, len(events)], strict=True)]
    assert landed(events, [list(range(len(events)))]) == landed(events, split)
