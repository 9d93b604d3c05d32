"""Hysteresis of the segment rules (health_confirmed_segment): a rule enters at its threshold and a customer
leaves the segment only past a looser one, so figures wavering around a threshold confirm no change after
the first, while a real move is confirmed at once. On the macro itself (every threshold, both ways) and
through the live refreshes (the issue's flapping margin, batch after batch).

Portfolio of tests/health_world.py: median complaint index 0 (terrorist threshold 8), median margin 10.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customer_health.config import HealthSettings, load_settings
from customer_health.health.params import health_params
from customer_health.sqlfiles import apply_schema
from customer_health.vocabulary import SEGMENTS
from tests.health_world import AS_OF, World, ago, charge, iso, ordinary_portfolio, profile, seen, tick

INPUTS = ("struct(churned boolean, cancelled_at timestamp, complaint_index_90d double, terrorist_threshold double, "
          "median_complaint_index_90d double, complaints_90d integer, compensation_requests_90d integer, "
          "legal_threats_90d integer, escalations_90d integer, margin_90d double, revenue_90d double, "
          "cost_to_serve_90d double, median_margin_90d double, health_score double, engagement double, "
          "components_mean double, fading boolean, visits_total integer, days_since_last_visit double, "
          "usual_visit_gap_days double, p_alive double, visits_30d integer, usual_visits_30d double, "
          "visit_fall_z double)")
# An ordinary healthy customer: every figure away from every threshold.
HEALTHY: dict[str, Any] = {
    "churned": False, "cancelled_at": None, "complaint_index_90d": 0.0, "terrorist_threshold": 8.0,
    "median_complaint_index_90d": 0.0, "complaints_90d": 0, "compensation_requests_90d": 0, "legal_threats_90d": 0,
    "escalations_90d": 0, "margin_90d": 100.0, "revenue_90d": 300.0, "cost_to_serve_90d": 200.0,
    "median_margin_90d": 10.0, "health_score": 65.0, "engagement": 60.0, "components_mean": 65.0, "fading": False,
    "visits_total": 10, "days_since_last_visit": 2.0, "usual_visit_gap_days": 2.0, "p_alive": None,
    "visits_30d": 15, "usual_visits_30d": 15.0, "visit_fall_z": 0.0,
}
CHAMPION = HEALTHY | {"health_score": 85.0, "engagement": 85.0, "components_mean": 85.0}
# Visits that fell improbably low against the customer's usual rate (what silent fading also needs).
FELL = {"visits_30d": 3, "visit_fall_z": 3.5}
NO_BANDS = {"terrorist_leave_band": 0.0, "unprofitable_leave_band": 0.0, "at_risk_score_band": 0.0,
            "at_risk_p_alive_band": 0.0, "fading_gap_band": 0.0, "champion_score_band": 0.0,
            "champion_engagement_band": 0.0, "champion_margin_band": 0.0, "at_risk_fall_z_band": 0.0}


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    apply_schema(c)
    yield c
    c.close()


def health(**segments: float) -> HealthSettings:
    base = load_settings(None, env={}).health
    return base.with_overrides(segments=base.segments.with_overrides(**segments))


def per_row(con: duckdb.DuckDBPyConnection, expressions: str, previous: list[str | None],
            rows: Sequence[dict[str, Any]], hs: HealthSettings) -> list[tuple[Any, ...]]:
    """``expressions`` (SQL over c.previous, c.r and hp, the health_params) of each row from its previous
    segment, in row order."""
    cases = [{"previous": p, "r": r} for p, r in zip(previous, rows, strict=True)]
    return con.execute(
        f"select {expressions} from (select health_params(?) as hp, unnest(?::struct(previous varchar, r {INPUTS})[]) "
        "as c, generate_subscripts(?::varchar[], 1) as i) order by i",
        [health_params(hs), cases, previous],
    ).fetchall()


def confirmed(con: duckdb.DuckDBPyConnection, previous: str | None | list[str | None],
              rows: Sequence[dict[str, Any]], hs: HealthSettings) -> list[tuple[str, str]]:
    """health_confirmed_segment of each row from previous (one for all rows, or one per row): (segment, reason)."""
    previous_of = previous if isinstance(previous, list) else [previous] * len(rows)
    return [(seg["segment"], seg["reason"])
            for (seg,) in per_row(con, "health_confirmed_segment(c.previous, c.r, hp)", previous_of, rows, hs)]


def segment_only(con: duckdb.DuckDBPyConnection, previous: list[str | None], rows: Sequence[dict[str, Any]],
                 hs: HealthSettings) -> list[str]:
    """The segment of each row from its previous one without a reason (what the history's chain and the
    path's transitions take): health_rule_segment of health_segment_rule."""
    return [seg for (seg,) in per_row(con, "health_rule_segment(health_segment_rule(c.previous, c.r, hp))",
                                      previous, rows, hs)]


def chain(con: duckdb.DuckDBPyConnection, rows: Sequence[dict[str, Any]], hs: HealthSettings,
          previous: str | None = None) -> list[str]:
    """The confirmed segment of each evaluation in turn, each starting from the one before."""
    out: list[str] = []
    for row in rows:
        previous = confirmed(con, previous, [row], hs)[0][0]
        out.append(previous)
    return out


def changes(segments: Sequence[str]) -> int:
    """Confirmed changes after the first segment."""
    return sum(a != b for a, b in zip(segments, segments[1:], strict=False))


# Each case: a figure wavering around one rule's threshold, starting on the side outside the segment:
# (name, the rows of the wave, the segment of the first row, the segment entered).
WAVES = [
    ("margin +-5% of revenue around 0", [HEALTHY | {"margin_90d": m} for m in (15.0, -15.0) * 10],
     "healthy", "unprofitable"),
    ("score +-3 around at_risk's 50", [HEALTHY | {"health_score": s, "components_mean": s} for s in (53.0, 47.0) * 10],
     "healthy", "at_risk"),
    ("visit fall z around 3 with a faded score",
     [HEALTHY | {"health_score": 30.0, "visits_30d": 5, "visit_fall_z": z} for z in (2.7, 3.3) * 10],
     "healthy", "at_risk"),
    ("score +-3 around champion's 75", [CHAMPION | {"health_score": s} for s in (72.0, 78.0) * 10],
     "healthy", "champion"),
    ("engagement +-3 around champion's 75", [CHAMPION | {"engagement": e} for e in (72.0, 78.0) * 10],
     "healthy", "champion"),
    ("margin around the portfolio median", [CHAMPION | {"margin_90d": m} for m in (5.0, 15.0) * 10],
     "healthy", "champion"),
    ("complaint index +-10% around 8", [HEALTHY | {"complaint_index_90d": c} for c in (7.2, 8.8) * 10],
     "healthy", "terrorist"),
    ("P(alive) +-0.03 around 0.3", [HEALTHY | {"p_alive": p} for p in (0.33, 0.27) * 10],
     "healthy", "at_risk"),
    ("no visit for about 4 x the usual gap",
     [HEALTHY | FELL | {"days_since_last_visit": d, "fading": d >= 8.0} for d in (7.5, 8.5) * 10], "healthy",
     "at_risk"),
]


@pytest.mark.parametrize(("name", "rows", "first", "entered"), WAVES, ids=[w[0] for w in WAVES])
def test_a_wave_around_a_threshold_confirms_one_change(
    con: duckdb.DuckDBPyConnection, name: str, rows: list[dict[str, Any]], first: str, entered: str,
) -> None:
    segments = chain(con, rows, HealthSettings())
    assert segments[0] == first and segments[1] == entered
    assert changes(segments) == 1, (name, segments)
    # Without the bands, every crossing is a change: the flapping the hysteresis removes.
    assert changes(chain(con, rows, health(**NO_BANDS))) == len(rows) - 1


def test_terrorist_enters_at_the_threshold_and_leaves_below_the_looser_one(con: duckdb.DuckDBPyConnection) -> None:
    at = [HEALTHY | {"complaint_index_90d": c} for c in (7.99, 8.0, 6.41, 6.39)]
    assert [s for s, _ in confirmed(con, None, at, HealthSettings())] == ["healthy", "terrorist", "healthy", "healthy"]
    held = confirmed(con, "terrorist", at, HealthSettings())
    assert [s for s, _ in held] == ["terrorist", "terrorist", "terrorist", "healthy"]
    assert held[2][1].startswith("still terrorist: complaint index 6.41 not below 6.4 (20% under the threshold 8.0")


def test_unprofitable_enters_below_zero_and_leaves_above_the_band(con: duckdb.DuckDBPyConnection) -> None:
    at = [HEALTHY | {"margin_90d": m} for m in (0.0, -0.01, 30.0, 30.01)]
    assert [s for s, _ in confirmed(con, None, at, HealthSettings())] == ["healthy", "unprofitable", "healthy",
                                                                           "healthy"]
    held = confirmed(con, "unprofitable", at, HealthSettings())
    assert [s for s, _ in held] == ["unprofitable", "unprofitable", "unprofitable", "healthy"]
    assert held[2][1] == ("still unprofitable: margin_90d 30.0 not above 30.0 (10% of revenue 300.0) against cost "
                          "to serve 200.0")


def test_at_risk_enters_below_each_threshold_and_leaves_past_the_looser_one(con: duckdb.DuckDBPyConnection) -> None:
    hs = HealthSettings()
    score = [HEALTHY | {"health_score": s, "components_mean": s} for s in (50.0, 49.9, 54.9, 55.0)]
    assert [s for s, _ in confirmed(con, None, score, hs)] == ["healthy", "at_risk", "healthy", "healthy"]
    held = confirmed(con, "at_risk", score, hs)
    assert [s for s, _ in held] == ["at_risk", "at_risk", "at_risk", "healthy"]
    assert held[2][1] == "still at risk: health score 54.9 below 55.0 (entered below 50.0)"
    p_alive = [HEALTHY | {"p_alive": p} for p in (0.3, 0.29, 0.39, 0.4)]
    assert [s for s, _ in confirmed(con, None, p_alive, hs)] == ["healthy", "at_risk", "healthy", "healthy"]
    assert [s for s, _ in confirmed(con, "at_risk", p_alive, hs)] == ["at_risk", "at_risk", "at_risk", "healthy"]
    # Usual gap 2 days: fading from 4 x 2 = 8 days without a visit, held until under 3 x 2 = 6.
    gaps = [HEALTHY | FELL | {"days_since_last_visit": d, "fading": d >= 8.0} for d in (7.9, 8.0, 6.0, 5.9)]
    assert [s for s, _ in confirmed(con, None, gaps, hs)] == ["healthy", "at_risk", "healthy", "healthy"]
    assert [s for s, _ in confirmed(con, "at_risk", gaps, hs)] == ["at_risk", "at_risk", "at_risk", "healthy"]


def test_a_score_low_from_the_fading_factor_needs_a_significant_fall(con: duckdb.DuckDBPyConnection) -> None:
    """A score under 50 only through the fading factor (the components' mean is 70), and silent fading, put a
    customer at risk when the fall in visits is improbable (visit_fall_z >= 3), held while it is >= 3 - 0.5."""
    hs = HealthSettings()
    faded = HEALTHY | {"health_score": 30.0, "components_mean": 70.0, "visits_30d": 5, "usual_visits_30d": 15.0}
    rows = [faded | {"visit_fall_z": z} for z in (2.99, 3.0, 2.5, 2.49)]
    assert [s for s, _ in confirmed(con, None, rows, hs)] == ["healthy", "at_risk", "healthy", "healthy"]
    held = confirmed(con, "at_risk", rows, hs)
    assert [s for s, _ in held] == ["at_risk", "at_risk", "at_risk", "healthy"]
    assert confirmed(con, None, rows[1:2], hs)[0][1] == (
        "health score 30.0 below 50.0: 5 visits in 30 days against a usual 15.0 (fall z 3.0, at least 3.0)")
    # Without a baseline (visit_fall_z null) the score and silent fading count as they are.
    assert confirmed(con, None, [faded | {"visit_fall_z": None}], hs)[0][0] == "at_risk"
    silent = HEALTHY | {"days_since_last_visit": 9.0, "fading": True}
    assert [s for s, _ in confirmed(con, None, [silent | {"visit_fall_z": z} for z in (2.9, 3.1, None)], hs)] == \
        ["healthy", "at_risk", "at_risk"]
    # at_risk_fall_z = 0: any fall counts, as before the check.
    assert confirmed(con, None, rows[:1], health(at_risk_fall_z=0.0))[0][0] == "at_risk"


def test_champion_enters_at_each_condition_and_leaves_past_the_looser_one(con: duckdb.DuckDBPyConnection) -> None:
    hs = HealthSettings()
    for field, values in (("health_score", (74.9, 75.0, 70.0, 69.9)), ("engagement", (74.9, 75.0, 70.0, 69.9)),
                          # above the median 10; held while above 10 - 10% of revenue 300 = -20
                          ("margin_90d", (10.0, 10.01, -19.99, -20.0))):
        rows = [CHAMPION | {field: v} for v in values]
        expected_new = ["unprofitable" if r["margin_90d"] < 0 else "healthy" for r in rows[2:]]
        assert [s for s, _ in confirmed(con, None, rows, hs)] == ["healthy", "champion", *expected_new], field
        held = [s for s, _ in confirmed(con, "champion", rows, hs)]
        # a negative margin is unprofitable whatever the previous segment (the rule before champion)
        assert held == ["champion", "champion", "unprofitable" if field == "margin_90d" else "champion",
                        expected_new[1]], field


def test_churned_has_no_band_and_a_real_change_is_confirmed_at_once(con: duckdb.DuckDBPyConnection) -> None:
    hs = HealthSettings()
    gone = HEALTHY | {"churned": True, "cancelled_at": datetime(2026, 11, 1)}
    for previous in (None, *SEGMENTS):
        assert confirmed(con, previous, [gone], hs)[0] == ("churned", "cancelled on 2026-11-01")
    # From churned (signed up again), the rules start afresh: no band keeps anyone anywhere.
    assert confirmed(con, "churned", [HEALTHY | {"health_score": 52.0}], hs)[0][0] == "healthy"
    # Margin falling to -50% of revenue, from any segment but terrorist (the rule before): unprofitable.
    falling = HEALTHY | {"margin_90d": -150.0}
    for previous in (None, "healthy", "champion", "at_risk"):
        assert confirmed(con, previous, [falling], hs)[0][0] == "unprofitable"
    # ... and back to +50%: out of unprofitable at once.
    assert confirmed(con, "unprofitable", [HEALTHY | {"margin_90d": 150.0}], hs)[0][0] == "healthy"


rule_inputs = st.fixed_dictionaries({
    "churned": st.booleans(), "complaint_index_90d": st.floats(0, 16), "margin_90d": st.floats(-300, 300),
    "revenue_90d": st.floats(0, 600), "median_margin_90d": st.floats(-20, 40), "health_score": st.floats(0, 100),
    "engagement": st.floats(0, 100), "components_mean": st.floats(0, 100), "days_since_last_visit": st.floats(0, 20),
    "p_alive": st.none() | st.floats(0, 1), "visit_fall_z": st.none() | st.floats(0, 6),
})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cases=st.lists(st.tuples(st.sampled_from([None, *SEGMENTS]), rule_inputs), min_size=1, max_size=40))
def test_hysteresis_only_ever_keeps_the_previous_segment(
    con: duckdb.DuckDBPyConnection, cases: list[tuple[str | None, dict[str, Any]]],
) -> None:
    rows = [HEALTHY | r | {"cancelled_at": datetime(2026, 11, 1) if r["churned"] else None,
                           "fading": r["days_since_last_visit"] >= 8.0} for _, r in cases]
    hs = HealthSettings()
    previous = [p for p, _ in cases]
    fresh = [s for s, _ in confirmed(con, None, rows, hs)]
    kept = [s for s, _ in confirmed(con, previous, rows, hs)]
    unbanded = [s for s, _ in confirmed(con, previous, rows, health(**NO_BANDS))]
    assert segment_only(con, previous, rows, hs) == kept
    for p, row, new, k, u in zip(previous, rows, fresh, kept, unbanded, strict=True):
        assert k in {new, p}
        # Without bands, the previous segment changes nothing (but for a margin of exactly 0: unprofitable is
        # entered below 0 and left above 0).
        if not (p == "unprofitable" and row["margin_90d"] == 0):
            assert u == new


# The issue's case, through the live refreshes: revenue 300 and a cost to serve of 297, so a refund of 6 then
# a charge of 6 swing the margin between -3 and +3 (2% of the revenue) around zero.
def waver_world(tmp_path: Path, **segments: float) -> World:
    world = World(tmp_path, segments=load_settings(None, env={}).health.segments.with_overrides(**segments))
    world.land_and_refresh(*ordinary_portfolio(), profile("w"), charge("w-pay", "w", ago(days=10), 300),
                           tick("w-t", "w", ago(days=9), "WT", "bug", 297),
                           *(seen(f"w-v{k}", "w", ago(days=k + 0.5)) for k in range(20)))
    return world


def waver(world: World, rounds: int) -> list[tuple[str | None, str, int | None]]:
    """Rounds of a refund of 6 then a charge of 6 (one batch each, each event a minute after the one before,
    refreshed a minute after it); w's segment changes (in event time: events at one same instant would be one
    step of the confirmed segment's path)."""
    now = AS_OF
    for k in range(rounds):
        for eid, kind in ((f"w-r{k}", "refund"), (f"w-c{k}", "charge")):
            now += timedelta(minutes=1)
            world.land_and_refresh(charge(eid, "w", iso(now - timedelta(minutes=1)), 6, kind=kind), now=now)
    return world.con.execute(
        "select from_segment, to_segment, batch_id from segment_changes where customer_id = 'w' order by rowid"
    ).fetchall()


def test_the_issues_wavering_margin_confirms_at_most_one_change_in_ten_rounds(tmp_path: Path) -> None:
    world = waver_world(tmp_path)
    try:
        assert world.maintained()["w"]["margin_90d"] == 3.0
        recorded = waver(world, 10)
        # the first segment (from the history point, at that point), then one change, at the first refund
        assert [(before, after) for before, after, _ in recorded] == [(None, "healthy"), ("healthy", "unprofitable")]
        row = world.maintained()["w"]
        assert row["segment"] == "unprofitable" and row["margin_90d"] == 3.0
        assert row["segment_reason"].startswith("still unprofitable: margin_90d 3.0 not above 30.0")
        # A point-in-time evaluation is chained from the last history point (00:00 UTC, before the wavering):
        # from there, the figures at that instant give the enter rules' segment.
        assert world.computed(AS_OF + timedelta(minutes=21))["w"]["segment"] == "healthy"
        # The history holds its daily points only: none per change of the current state.
        assert world.con.execute("select count(*) from health_snapshots where customer_id = 'w' "
                                 "and reason <> 'daily'").fetchone() == (0,)
    finally:
        world.close()


def test_without_bands_the_wavering_margin_flips_at_every_batch(tmp_path: Path) -> None:
    world = waver_world(tmp_path, **NO_BANDS)
    try:
        recorded = waver(world, 10)
        assert len(recorded) == 1 + 20   # the first segment, then a change at each of the 20 events
    finally:
        world.close()


def test_a_margin_falling_to_minus_half_the_revenue_is_confirmed_in_the_same_batch(tmp_path: Path) -> None:
    world = World(tmp_path)
    try:
        world.land_and_refresh(*ordinary_portfolio(), profile("f"), charge("f-pay", "f", ago(days=10), 300),
                               *(seen(f"f-v{k}", "f", ago(days=k + 0.5)) for k in range(20)))
        before = world.maintained()["f"]["segment"]
        assert before in {"healthy", "champion"}
        # 450 minutes of support: cost to serve 450, margin -150 = -50% of the revenue.
        batch = world.land(tick("f-t", "f", ago(hours=2), "FT", "bug", 450))
        world.refresh(batch, now=AS_OF + timedelta(minutes=1))
        assert world.maintained()["f"]["margin_90d"] == -150.0
        assert world.con.execute(
            "select from_segment, to_segment, batch_id from segment_changes where customer_id = 'f' and "
            "from_segment is not null").fetchall() == [(before, "unprofitable", batch)]
        # ... and a charge of 600 (margin +450) out of it in the same batch.
        batch = world.land(charge("f-pay2", "f", ago(hours=1), 600))
        world.refresh(batch, now=AS_OF + timedelta(minutes=2))
        (left,) = world.con.execute(
            "select from_segment, to_segment from segment_changes where customer_id = 'f' and batch_id = ?", [batch]
        ).fetchall()
        assert left[0] == "unprofitable" and left[1] == world.maintained()["f"]["segment"] != "unprofitable"
    finally:
        world.close()


def test_the_full_refresh_starts_from_the_stored_confirmed_segment(tmp_path: Path) -> None:
    world = waver_world(tmp_path)
    try:
        waver(world, 1)   # margin back at +3 after a refund and a charge: held unprofitable
        assert world.maintained()["w"]["segment"] == "unprofitable"
        world.full_refresh(AS_OF + timedelta(minutes=3))
        assert world.maintained()["w"]["segment"] == "unprofitable"
        assert world.con.execute("select count(*) from segment_changes where customer_id = 'w'").fetchone() == (2,)
        # Before anything was recorded, the same figures give the enter rules only.
        assert world.computed(AS_OF - timedelta(minutes=1)).get("w", {}).get("segment") != "unprofitable"
    finally:
        world.close()


# One input per rule of health_segment_rule, from its previous segment, and the reason text the rule gives;
# the texts are those of health_confirmed_segment before the rules became rule codes (main 3da813e).
RULE_CASES: list[tuple[str, str | None, dict[str, Any], str]] = [
    ("churned", None, {"churned": True, "cancelled_at": datetime(2026, 11, 1)},
     "cancelled on 2026-11-01"),
    ("terrorist", None, {"complaint_index_90d": 9.5, "complaints_90d": 6, "compensation_requests_90d": 2,
                        "legal_threats_90d": 1, "escalations_90d": 3},
     "complaint-driven behaviour far above the portfolio norm: complaint index 9.5 (threshold 8.0, "
     "portfolio median 0.0) from 6 complaints, 2 compensation demands, 1 legal threats and 3 "
     "escalations in 90 days"),
    ("terrorist:held", "terrorist", {"complaint_index_90d": 7.0, "complaints_90d": 5},
     "still terrorist: complaint index 7.0 not below 6.4 (20% under the threshold 8.0, portfolio "
     "median 0.0) from 5 complaints, 0 compensation demands, 0 legal threats and 0 escalations in 90 "
     "days"),
    ("unprofitable", None, {"margin_90d": -12.5, "cost_to_serve_90d": 312.5},
     "margin_90d -12.5 < 0: revenue 300.0 against cost to serve 312.5"),
    ("unprofitable:held", "unprofitable", {"margin_90d": 20.0, "cost_to_serve_90d": 280.0},
     "still unprofitable: margin_90d 20.0 not above 30.0 (10% of revenue 300.0) against cost to serve "
     "280.0"),
    ("at_risk:score", None, {"health_score": 35.0, "components_mean": 35.0},
     "health score 35.0 below 50.0"),
    ("at_risk:fall", None, {"health_score": 45.0, "components_mean": 60.0, **FELL},
     "health score 45.0 below 50.0: 3 visits in 30 days against a usual 15.0 (fall z 3.5, at least "
     "3.0)"),
    ("at_risk:fading", None, {"fading": True, "days_since_last_visit": 9.0, **FELL},
     "silent fading: no visit for 9.0 days, over 4.0 x the usual gap of 2.0 days"),
    ("at_risk:p_alive", None, {"p_alive": 0.2},
     "silent churn: P(alive) 0.2 below 0.3 (BG/NBD on the repeat purchases)"),
    ("at_risk:score_held", "at_risk", {"health_score": 52.0, "components_mean": 52.0},
     "still at risk: health score 52.0 below 55.0 (entered below 50.0)"),
    ("at_risk:fading_held", "at_risk", {"days_since_last_visit": 6.5, "visit_fall_z": 2.5},
     "still at risk: silent fading, no visit for 6.5 days, over 3.0 x the usual gap of 2.0 days"),
    ("at_risk:p_alive_held", "at_risk", {"p_alive": 0.35},
     "still at risk: silent churn, P(alive) 0.35 below 0.4 (entered below 0.3)"),
    ("champion", None, CHAMPION,
     "health score 85.0 >= 75.0, engagement 85.0 and margin_90d 100.0 above the portfolio median 10.0"),
    ("champion:held", "champion", CHAMPION | {"health_score": 72.0, "engagement": 78.0, "margin_90d": 5.0},
     "still champion: health score 72.0 >= 70.0, engagement 78.0 >= 70.0 and margin_90d 5.0 above "
     "-20.0 (portfolio median 10.0 less 10% of revenue 300.0)"),
    ("healthy", None, {},
     "health score 65.0, margin_90d 100.0"),
    ("healthy", None, {"health_score": 30.0, "components_mean": 70.0, "visits_30d": 5, "usual_visits_30d": 15.0,
                             "visit_fall_z": 2.5},
     "health score 30.0 below 50.0 only from fewer visits (5 in 30 days against a usual 15.0), a fall within this "
     "customer's usual variation (fall z 2.5 below 3.0): not at risk yet, watch the visits"),
]


@pytest.mark.parametrize(("rule", "previous", "inputs", "reason"), RULE_CASES, ids=[c[0] for c in RULE_CASES])
def test_each_rule_gives_its_segment_and_reason_text(
    con: duckdb.DuckDBPyConnection, rule: str, previous: str | None, inputs: dict[str, Any], reason: str,
) -> None:
    row = HEALTHY | inputs
    assert per_row(con, "health_segment_rule(c.previous, c.r, hp)", [previous], [row], HealthSettings()) == [(rule,)]
    assert confirmed(con, previous, [row], HealthSettings()) == [(rule.split(":")[0], reason)]
    assert segment_only(con, [previous], [row], HealthSettings()) == [rule.split(":")[0]]


def test_every_rule_has_a_case() -> None:
    assert len({c[0] for c in RULE_CASES}) == 15
