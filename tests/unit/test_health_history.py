"""The health history is a grid of point-in-time evaluations (customer_health.health.history), on a real
DuckDB file through the real Lander and health plug-in:

- every stored point equals what `customers --as-of` gives at its time (score, segment, components, margin),
  and the segment mix per point is the as-of mix;
- the same events landed in one batch, or in any order and batch split, give the same health state,
  history and segment history (hypothesis);
- a late event re-derives the history from its day; segment history = changes between points.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customer_health.health.history import grid, rebuild_history, segment_history
from customer_health.health.queries import customer_health
from customer_health.health.refresh import HealthRefresher
from ingest.landing import Lander, RawBatch, batch_from_rows
from tests.factories import encode
from tests.health_world import AS_OF, World, ago, charge, iso, ordinary_portfolio, profile, seen, tick

POINT = datetime.combine(AS_OF.date(), datetime.min.time())


def stored(world: World, at: datetime) -> dict[str, tuple[Any, ...]]:
    rows = world.con.execute(
        "select customer_id, score, segment, components, margin_90d from health_history where as_of = ?",
        [at]).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def as_of(world: World, at: datetime) -> dict[str, tuple[Any, ...]]:
    return {cid: (r["health_score"], r["segment"], r["components"], r["margin_90d"])
            for cid, r in world.computed(at).items()}


def slide() -> list[tuple[str, dict]]:
    """A customer whose margin slides: 100 EUR 12 days ago, support load 3 days ago, a visit a day ago."""
    return [profile("slide"), charge("s-old", "slide", ago(days=12), 100), seen("s-v", "slide", ago(days=1)),
            tick("s-t", "slide", ago(days=3), "ST", "bug", 150)]


def test_every_stored_point_equals_its_as_of_evaluation(tmp_path: Path) -> None:
    world = World(tmp_path)
    try:
        result = world.land_and_refresh(*ordinary_portfolio(), *slide())
        assert result.kind == "full"
        points = [r[0] for r in world.con.execute(
            "select distinct as_of from health_history order by 1").fetchall()]
        assert points == [POINT - timedelta(days=d) for d in range(7, -1, -1)]
        for at in points:
            assert stored(world, at) == as_of(world, at), at
        # the slide shows in the history: unprofitable once the support minutes landed 3 days back
        segments = [stored(world, at)["slide"][1] for at in points]
        assert segments[-1] == "unprofitable" and segments[0] != "unprofitable"
        # the segment mix per point is the as-of mix, with its as_of
        mix = world.reader().run("health/segment_mix", {"days": 400}).fetchall()
        for at in points:
            counted = {seg: n for _, a, seg, n in mix if a == at}
            assert counted == dict(Counter(s for _, s, _, _ in as_of(world, at).values()))
    finally:
        world.close()


def test_segment_history_and_since_follow_the_points(tmp_path: Path) -> None:
    world = World(tmp_path)
    try:
        world.land_and_refresh(*ordinary_portfolio(), *slide())
        doc = customer_health(world.reader(), world.settings, "slide")
        history = doc["segment_history"]
        assert [h["to_segment"] for h in history][-1] == "unprofitable"
        assert history[0]["from_segment"] is None
        changed = [h["changed_at"] for h in history]
        assert changed == sorted(changed) and doc["segment_since"] == changed[-1]
        # the change to unprofitable is at the first point after the support minutes (3 days back)
        assert history[-1]["changed_at"] == iso(POINT - timedelta(days=2)).replace("+00:00", "Z") or \
            history[-1]["changed_at"].startswith((POINT - timedelta(days=2)).strftime("%Y-%m-%d"))
        # and as of a moment before it, the history ends earlier
        before = customer_health(world.reader(), world.settings, "slide", AS_OF - timedelta(days=5))
        assert before["segment_history"] == history[:len(before["segment_history"])]
        assert before["segment"] != "unprofitable"
    finally:
        world.close()


def test_a_late_event_rewrites_the_history_from_its_day(tmp_path: Path) -> None:
    world = World(tmp_path)
    try:
        world.land_and_refresh(*ordinary_portfolio(), profile("late"), charge("l-1", "late", ago(days=6), 50))
        assert {stored(world, POINT - timedelta(days=d))["late"][1] for d in range(0, 6)} != {"unprofitable"}
        # a ticket 5 days back lands now: every point from its day on is derived again
        result = world.land_and_refresh(tick("l-t", "late", ago(days=5), "LT", "bug", 400))
        assert (result.kind, result.reason) == ("full", "history_rebuilt")
        for d in range(0, 5):
            at = POINT - timedelta(days=d)
            assert stored(world, at)["late"][1] == "unprofitable", at
            assert stored(world, at) == as_of(world, at)
        assert world.con.execute("select count(*) from health_history_dirty").fetchone() == (0,)
    finally:
        world.close()


def test_a_debounced_rebuild_waits(tmp_path: Path) -> None:
    world = World(tmp_path, history_rebuild_interval_seconds=3600.0)
    try:
        world.land_and_refresh(*ordinary_portfolio(), profile("late"), charge("l-1", "late", ago(days=6), 50))
        # the first refresh derived the whole window: late events within the interval are marked only
        for eid, days in (("l-t", 4), ("l-u", 5)):
            result = world.land_and_refresh(tick(eid, "late", ago(days=days), eid, "bug", 400))
            assert result.kind == "incremental"
        assert world.con.execute("select min(since) from health_history_dirty").fetchone() == (
            (AS_OF - timedelta(days=5)).date(),)
        # a manual refresh derives it
        world.full_refresh()
        assert world.con.execute("select count(*) from health_history_dirty").fetchone() == (0,)
        assert stored(world, POINT) == as_of(world, POINT)
    finally:
        world.close()


def test_a_backlog_defers_new_points(tmp_path: Path) -> None:
    world = World(tmp_path, history_defer_lag_messages=100)
    try:
        world.land_and_refresh(*ordinary_portfolio())
        world.con.execute("insert into consumer_lag values ('visits', 0, 1000, 10, 990, ?)", [AS_OF])
        result = world.land_and_refresh(seen("nv", "o1", ago(days=-1)), now=AS_OF + timedelta(days=1))
        assert world.con.execute("select max(as_of) from health_history").fetchone() == (POINT,)
        assert result.reason == "day_rollover"
        world.con.execute("update consumer_lag set lag = 0, next_offset = end_offset")
        world.land_and_refresh(seen("nv2", "o2", ago(days=-1)), now=AS_OF + timedelta(days=1, hours=1))
        assert world.con.execute("select max(as_of) from health_history").fetchone() == (POINT + timedelta(days=1),)
    finally:
        world.close()


def last_point(world: World) -> datetime:
    return world.con.execute("select max(as_of) from health_history").fetchone()[0]


def test_an_idle_pipeline_derives_the_points_a_backlog_deferred_once_it_is_in(tmp_path: Path) -> None:
    world = World(tmp_path, history_defer_lag_messages=100)
    try:
        assert world.idle(AS_OF) is None  # nothing refreshed yet: the first batch derives the first state
        world.land_and_refresh(*ordinary_portfolio())
        world.con.execute("insert into consumer_lag values ('visits', 0, 1000, 10, 990, ?)", [AS_OF])
        next_day = AS_OF + timedelta(days=1)
        world.land_and_refresh(seen("nv", "o1", ago(days=-1)), now=next_day)
        assert last_point(world) == POINT
        assert world.idle(next_day) is None  # still behind: nothing to do
        assert last_point(world) == POINT
        # The rest of the backlog landed (its offsets, as a Kafka batch records them), and no batch follows.
        world.con.execute("insert into consumer_offsets values ('customer-health', 'visits', 0, 1000, ?, null)",
                          [AS_OF])
        result = world.idle(next_day)
        assert result is not None and (result.kind, result.reason) == ("full", "history_point")
        assert last_point(world) == POINT + timedelta(days=1)
        assert stored(world, POINT + timedelta(days=1)) == as_of(world, POINT + timedelta(days=1))
        assert world.idle(next_day + timedelta(seconds=5)) is None  # done: the next idle turn finds nothing
    finally:
        world.close()


def test_an_idle_pipeline_rolls_the_day_over_and_rebuilds_a_debounced_history(tmp_path: Path) -> None:
    world = World(tmp_path, history_rebuild_interval_seconds=3600.0)
    try:
        world.land_and_refresh(*ordinary_portfolio(), profile("late"), charge("l-1", "late", ago(days=6), 50))
        assert world.land_and_refresh(tick("l-t", "late", ago(days=4), "LT", "bug", 400)).kind == "incremental"
        assert world.idle(AS_OF) is None  # the interval holds the rebuild back for an idle pipeline too
        assert world.con.execute("select count(*) from health_history_dirty").fetchone() == (1,)
        assert world.refresher._history_rebuilt_at is not None
        world.refresher._history_rebuilt_at -= 3600.0  # the interval has passed (monotonic seconds)
        result = world.idle(AS_OF + timedelta(minutes=1))
        assert result is not None and (result.kind, result.reason) == ("full", "history_rebuilt")
        assert world.con.execute("select count(*) from health_history_dirty").fetchone() == (0,)
        assert stored(world, POINT) == as_of(world, POINT)
        assert stored(world, POINT)["late"][1] == "unprofitable"
        # No event lands all day: the idle pipeline rolls the model's day over, its point and everyone's state.
        next_day = AS_OF + timedelta(days=1)
        result = world.idle(next_day)
        assert result is not None and (result.kind, result.reason) == ("full", "day_rollover")
        assert last_point(world) == POINT + timedelta(days=1)
        assert stored(world, POINT + timedelta(days=1)) == as_of(world, POINT + timedelta(days=1))
        maintained = world.maintained()
        for cid, row in world.computed(next_day).items():
            assert (maintained[cid]["health_score"], maintained[cid]["segment"]) == (
                row["health_score"], row["segment"]), cid
        assert world.idle(next_day + timedelta(seconds=5)) is None
    finally:
        world.close()


def test_the_batch_that_lands_the_rest_of_a_backlog_sees_it_caught_up(tmp_path: Path) -> None:
    # The lag the consumer recorded before a batch (end offset 10, nothing landed) counts against the offsets
    # landed since, the batch's own included: its last batch derives the deferred point, no idle turn needed.
    world = World(tmp_path, history_defer_lag_messages=3)
    world.refresher = HealthRefresher(world.health, group_id="test")  # the lander's consumer group
    try:
        world.land_and_refresh(*ordinary_portfolio())
        world.con.execute("insert into consumer_lag values ('visits', 0, 10, 0, 10, ?)", [AS_OF])
        next_day = AS_OF + timedelta(days=1)

        def kafka_batch(offsets: range) -> int:
            batch = RawBatch()
            for offset in offsets:
                _, payload = seen(f"k{offset}", "o1", ago(days=-1, hours=-offset / 10))
                batch.add_kafka("visits", "visits", 0, offset, b"o1", encode(payload), 0)
            result = world.lander.land(batch, "kafka")
            assert result.landed == len(offsets)
            return result.batch_id

        world.refresh(kafka_batch(range(0, 2)), now=next_day)  # 8 still to come: deferred
        assert last_point(world) == POINT
        result = world.refresh(kafka_batch(range(2, 10)), now=next_day + timedelta(minutes=1))
        assert last_point(world) == POINT + timedelta(days=1)
        assert result.kind == "full"
        assert stored(world, POINT + timedelta(days=1)) == as_of(world, POINT + timedelta(days=1))
    finally:
        world.close()


def test_rebuild_history_derives_the_window(tmp_path: Path) -> None:
    world = World(tmp_path)
    try:
        world.land(*ordinary_portfolio(), *slide())
        world.con.execute("begin")
        result = rebuild_history(world.con, world.settings, None, now=AS_OF)
        world.con.execute("commit")
        assert result.points == 8 and result.last == POINT
        assert stored(world, POINT - timedelta(days=3)) == as_of(world, POINT - timedelta(days=3))
        assert grid(AS_OF, 3, None) == []
    finally:
        world.close()


# ---- order and batch-split independence --------------------------------------------------------------

def small_history(rng: random.Random) -> list[tuple[str, dict[str, Any]]]:
    """Events for 4 customers over 6 days before AS_OF (one profile each)."""
    events: list[tuple[str, dict[str, Any]]] = []
    for c in range(4):
        events.append(profile(f"h{c}", occurred_at=iso(AS_OF - timedelta(days=7))))
    for i in range(rng.randrange(6, 16)):
        cid = f"h{rng.randrange(4)}"
        when = iso(AS_OF - timedelta(days=rng.uniform(0, 6)))
        k = rng.random()
        if k < 0.35:
            events.append(tick(f"e{i}", cid, when, f"T{i}", rng.choice(["complaint", "bug", "legal_threat"]),
                               round(rng.uniform(0, 90), 1), escalated=rng.random() < 0.3))
        elif k < 0.7:
            events.append(charge(f"e{i}", cid, when, round(rng.uniform(1, 120), 2), invoice_id=f"I{i}",
                                 kind=rng.choice(["charge", "charge", "refund"])))
        else:
            events.append(seen(f"e{i}", cid, when))
    return events


STATE = ("customer_id", "health_score", "segment", "segment_reason", "segment_since", "components", "margin_90d",
         "score_change_7d", "drifting_toward", "baseline_segment", "baseline_since")


def run_split(tmp_path: Path, events: list, cuts: list[int], behind: bool = False) -> tuple[list, list, list]:
    """Land ``events`` in batches cut at ``cuts``, each refreshed as of AS_OF. ``behind``: the consumer lags (by more
    than health.history_defer_lag_messages) until the last batch, which it lands caught up at AS_OF; the batches
    before it refreshed as of the latest event landed so far, as the events' clock has it (a backlog passing
    days, the later batches holding events from before the clock of the earlier ones)."""
    world = World(tmp_path, history_defer_lag_messages=0)
    try:
        now = AS_OF
        hook = world.refresher.after_land
        lander = Lander(world.con, "test", 65536,
                        after_land=[lambda con, ctx: hook(con, dataclasses.replace(ctx, now=now))])
        bounds = [0, *cuts, len(events)]
        if behind:
            world.con.execute("insert into consumer_lag values ('visits', 0, 10, 9, 1, ?)", [AS_OF])
            now = datetime.min
        for n, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False)):
            if behind and b == len(events):
                assert world.con.execute("select count(*) from health_history_norms").fetchone() == (0,)  # deferred
                world.con.execute("update consumer_lag set lag = 0, next_offset = end_offset")
                now = AS_OF
            elif behind:
                now = max([now, *(datetime.fromisoformat(p["occurred_at"]).replace(tzinfo=None)
                                  for _, p in events[a:b])])
            rows = [(t, f"f{n}.jsonl", i + 1, encode(p)) for i, (t, p) in enumerate(events[a:b])]
            if rows:
                lander.land(batch_from_rows(rows), f"file:f{n}.jsonl")
        state = world.con.execute(f"select {', '.join(STATE)} from health_state order by customer_id").fetchall()
        history = world.con.execute("select customer_id, as_of, score, segment, components, margin_90d "
                                    "from health_history order by all").fetchall()
        maintained = world.maintained()
        changes = [(cid, segment_history(world.reader(), cid, maintained[cid])) for cid in sorted(maintained)]
        return state, history, changes
    finally:
        world.close()


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), data=st.data())
def test_order_and_batch_split_do_not_matter(tmp_path_factory: Any, seed: int, data: st.DataObject) -> None:
    rng = random.Random(seed)
    events = ordinary_portfolio() + small_history(rng)
    one = run_split(tmp_path_factory.mktemp("one"), events, [])
    shuffled = data.draw(st.permutations(events))
    cuts = sorted(data.draw(st.sets(st.integers(1, len(events) - 1), min_size=1, max_size=3)))
    other = run_split(tmp_path_factory.mktemp("split"), list(shuffled), cuts)
    assert one[1] == other[1]   # history
    assert one[0] == other[0]   # state
    assert one[2] == other[2]   # segment history


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), data=st.data())
def test_a_backlog_landed_in_any_split_gives_the_history_of_one_batch(
    tmp_path_factory: Any, seed: int, data: st.DataObject,
) -> None:
    """A pipeline catching up on a backlog (its points deferred) ends where one batch of the same events does:
    the states it derived from part of the data leave nothing behind."""
    rng = random.Random(seed)
    events = ordinary_portfolio() + small_history(rng)
    one = run_split(tmp_path_factory.mktemp("one"), events, [])
    shuffled = data.draw(st.permutations(events))
    cuts = sorted(data.draw(st.sets(st.integers(1, len(events) - 1), min_size=1, max_size=3)))
    other = run_split(tmp_path_factory.mktemp("behind"), list(shuffled), cuts, behind=True)
    assert one[1] == other[1]   # history
    assert one[0] == other[0]   # state
    assert one[2] == other[2]   # segment history


# ---- the scenario: a backfill of 150 days, file by file ----------------------------------------

def backfill_files(seed: int = 5) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """150 days of history for 30 customers of mixed behaviour, by file (event type) as `load` reads them."""
    rng = random.Random(seed)
    files: dict[str, list[tuple[str, dict[str, Any]]]] = {"customers": [], "tickets": [], "payments": [],
                                                           "visits": []}
    start = AS_OF - timedelta(days=150)
    for c in range(30):
        cid = f"b{c}"
        style = c % 5  # 0 champion, 1 fader, 2 complainer, 3 loss-maker, 4 churned
        cancelled = {"cancelled_at": iso(AS_OF - timedelta(days=rng.uniform(3, 40)))} if style == 4 else {}
        files["customers"].append(profile(cid, occurred_at=iso(start), **cancelled))
        for day in range(150):
            at = start + timedelta(days=day, hours=rng.uniform(0, 23))
            active = style != 1 or day < 120
            if active and rng.random() < (0.6 if style == 0 else 0.25):
                files["visits"].append(seen(f"{cid}-v{day}", cid, iso(at)))
            if day % 30 == 3:
                files["payments"].append(charge(f"{cid}-p{day}", cid, iso(at), 200 if style == 0 else 40,
                                                invoice_id=f"{cid}-I{day}"))
            if style == 2 and rng.random() < 0.12:
                files["tickets"].append(tick(f"{cid}-t{day}", cid, iso(at), f"{cid}-T{day}", "complaint", 15,
                                             escalated=rng.random() < 0.5))
            if style == 3 and day > 100 and rng.random() < 0.2:
                files["tickets"].append(tick(f"{cid}-t{day}", cid, iso(at), f"{cid}-T{day}", "bug", 60))
    return files


def land_files(tmp_path: Path, order: list[str]) -> World:
    world = World(tmp_path, history_days=15)
    files = backfill_files()
    for name in order:
        world.land_and_refresh(*files[name])
    return world


def test_a_backfill_file_by_file_in_any_order_gives_the_as_of_history(tmp_path: Path) -> None:
    histories = []
    for n, order in enumerate((["customers", "tickets", "payments", "visits"],
                               ["visits", "payments", "customers", "tickets"])):
        world = land_files(tmp_path / f"order{n}", order)
        try:
            for days in (7, 14):
                at = POINT - timedelta(days=days)
                mix = Counter(r[1] for r in stored(world, at).values())
                assert mix == Counter(r[1] for r in as_of(world, at).values()), (order, days)
                assert len(mix) >= 4, mix   # not just healthy and churned
            histories.append(world.con.execute(
                "select customer_id, as_of, score, segment, components from health_history order by all").fetchall())
        finally:
            world.close()
    assert histories[0] == histories[1] and len(histories[0]) == 15 * 30
