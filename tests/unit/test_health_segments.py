"""Every segment rule, every branch of the five-step playbook, interventions, win-back, households,
returns after an exit and drift, on hand-computed fixtures (see tests/health_world.py for the portfolio:
median support minutes 0, median complaint index 0, median margin 10.00; terrorist threshold
max(6, 4 x max(0, 2)) = 8)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from customer_health.health.refresh import HealthRefresher
from customer_health.vocabulary import NEXT_STEPS, SEGMENTS
from tests.health_world import AS_OF, World, ago, charge, ordinary_portfolio, profile, seen, tick


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    w.land_and_refresh(*ordinary_portfolio())
    yield w
    w.close()


def terrorist_events(cid: str, kind: str = "b2b") -> list:
    # 3 complaints + 1 legal threat (weight 3) + 2 escalated tickets = index 8: the threshold exactly.
    return [
        profile(cid, kind=kind), charge(f"{cid}-pay", cid, ago(days=10), 1000),
        tick(f"{cid}-c1", cid, ago(days=20), f"{cid}-T1", "complaint", 5, escalated=True),
        tick(f"{cid}-c2", cid, ago(days=15), f"{cid}-T2", "complaint", 5, escalated=True),
        tick(f"{cid}-c3", cid, ago(days=10), f"{cid}-T3", "complaint", 5),
        tick(f"{cid}-l1", cid, ago(days=5), f"{cid}-T4", "legal_threat", 5),
    ]


def test_segments_and_keys_are_within_their_accepted_sets(world: World) -> None:
    world.land_and_refresh(*terrorist_events("terr"), profile("gone", cancelled_at="2026-11-01T00:00:00Z"))
    for rows in (world.computed(), world.maintained()):
        assert len(rows) == 7 and all(r["customer_id"] for r in rows.values())
        assert {r["segment"] for r in rows.values()} <= set(SEGMENTS)
        assert {r["next_step"] for r in rows.values()} <= set(NEXT_STEPS)
        assert all(0 <= r["health_score"] <= 100 for r in rows.values())
        assert all(0 <= v <= 100 for r in rows.values() for v in r["components"].values())


def test_terrorist_whatever_the_revenue_and_the_exit_ladder(world: World) -> None:
    world.land_and_refresh(*terrorist_events("terr"))
    row = world.computed()["terr"]
    assert row["complaint_index_90d"] == 8.0 and row["margin_90d"] > 900
    assert row["segment"] == "terrorist" and "threshold 8.0" in row["segment_reason"]
    # Nothing tried: the first earlier step, never exit.
    assert row["next_step"] == "educate" and "never tried" in row["next_step_reason"]
    world.intervene("terr", "educate", AS_OF - timedelta(days=40))
    assert world.computed()["terr"]["next_step"] == "migrate"
    world.intervene("terr", "migrate", AS_OF - timedelta(days=30))
    assert world.computed()["terr"]["next_step"] == "renegotiate"
    world.intervene("terr", "renegotiate", AS_OF + timedelta(hours=2))
    # An intervention after as_of does not count at as_of.
    assert world.computed()["terr"]["next_step"] == "renegotiate"
    row = world.computed(AS_OF + timedelta(hours=3))["terr"]
    assert row["next_step"] == "exit"
    assert row["exit_notice"] == "business account: give notice 3 months ahead, in person"
    assert "customer-health dossier terr" in row["next_step_reason"]


def test_after_an_exit_the_playbook_is_over_and_says_which_steps_it_skipped(world: World) -> None:
    """An exit recorded ends the playbook (no step recommended again, the notice period runs); one recorded before
    educate, migrate and renegotiate were tried says so, rather than recommending educate as if nothing happened."""
    world.land_and_refresh(*terrorist_events("skip"))
    world.intervene("skip", "educate", AS_OF - timedelta(days=10))
    world.intervene("skip", "exit", AS_OF - timedelta(days=1))
    row = world.computed()["skip"]
    assert row["next_step"] == "none" and row["exited_at"] == AS_OF - timedelta(days=1)
    assert row["next_step_reason"] == (
        f"exit recorded on {(AS_OF - timedelta(days=1)):%Y-%m-%d}, before migrate and renegotiate were tried (the "
        "playbook tries educate, migrate and renegotiate first): no further step (the notice period runs; a return "
        "is flagged)")


def test_exit_notice_for_a_consumer(world: World) -> None:
    world.land_and_refresh(*terrorist_events("tc", kind="b2c"))
    for step in ("educate", "migrate", "renegotiate"):
        world.intervene("tc", step, AS_OF - timedelta(days=50))
    row = world.computed()["tc"]
    assert row["next_step"] == "exit" and row["exit_notice"] == "consumer: tell them in person or by phone"


def test_just_below_the_terrorist_threshold_is_not_terrorist(world: World) -> None:
    events = [e for e in terrorist_events("near") if e[1]["event_id"] != "near-c3"]  # index 7
    world.land_and_refresh(*events)
    row = world.computed()["near"]
    assert row["complaint_index_90d"] == 7.0 and row["segment"] != "terrorist"


def test_unprofitable_is_negative_margin_without_terrorist_behaviour(world: World) -> None:
    world.land_and_refresh(profile("loss"), charge("lp", "loss", ago(days=3), 20),
                           tick("lt", "loss", ago(days=2), "LT", "bug", 50))
    row = world.computed()["loss"]
    assert row["margin_90d"] == -30.0 and row["segment"] == "unprofitable"
    assert row["next_step"] == "renegotiate" and "cost to serve 50.0 above revenue 20.0" in row["next_step_reason"]
    # Tried long ago: recommended again.
    world.intervene("loss", "renegotiate", AS_OF - timedelta(days=100))
    assert world.computed()["loss"]["next_step"] == "renegotiate"
    # Tried recently: no other step fits, so diagnose.
    world.intervene("loss", "renegotiate", AS_OF - timedelta(days=5))
    row = world.computed()["loss"]
    assert row["next_step"] == "readjust" and "tried in the last 30" in row["next_step_reason"]


def test_educate_when_how_to_tickets_dominate_a_heavy_load(world: World) -> None:
    world.land_and_refresh(profile("howto"), charge("hp", "howto", ago(days=3), 200),
                           tick("h1", "howto", ago(days=2), "H1", "how_to", 70),
                           tick("h2", "howto", ago(days=1), "H2", "bug", 30))
    row = world.computed()["howto"]
    assert row["how_to_share_90d"] == 0.7 and row["support_minutes_90d"] == 100
    assert row["segment"] == "healthy"   # 0.2 x 100 + 0.15 x 37.5 + 0.2 x 100 + 0.2 x 75 = 60.6
    assert row["health_score"] == 60.6
    assert row["next_step"] == "educate" and "how-to tickets take 70% of 100.0 support minutes" in \
        row["next_step_reason"]
    world.intervene("howto", "educate", AS_OF - timedelta(days=5))
    assert world.computed()["howto"]["next_step"] == "none"


def test_educate_needs_a_heavy_support_load(world: World) -> None:
    world.land_and_refresh(profile("light"), charge("lp2", "light", ago(days=3), 200),
                           tick("lh", "light", ago(days=2), "LH", "how_to", 20))   # under the 30-minute floor
    assert world.computed()["light"]["next_step"] == "none"


def test_migrate_when_failed_and_overdue_payments_dominate(world: World) -> None:
    world.land_and_refresh(
        profile("payer"), charge("pp", "payer", ago(days=30), 100),
        charge("pf1", "payer", ago(days=20), 100, status="failed"),
        charge("pf2", "payer", ago(days=10), 100, status="failed"),
    )
    row = world.computed()["payer"]
    assert row["payment_problem_share_90d"] == round(2 / 3, 4)
    assert row["next_step"] == "migrate" and "2 failed payments and 0 overdue invoices" in row["next_step_reason"]


def test_educate_comes_before_migrate_and_renegotiate(world: World) -> None:
    world.land_and_refresh(
        profile("all3"), charge("a-p", "all3", ago(days=30), 20),
        charge("a-f1", "all3", ago(days=20), 20, status="failed"),
        charge("a-f2", "all3", ago(days=10), 20, status="failed"),
        tick("a-h", "all3", ago(days=2), "AH", "how_to", 80),
    )
    row = world.computed()["all3"]
    assert row["margin_90d"] < 0 and row["segment"] == "unprofitable"
    assert row["next_step"] == "educate"
    world.intervene("all3", "educate", AS_OF - timedelta(days=1))
    assert world.computed()["all3"]["next_step"] == "migrate"
    world.intervene("all3", "migrate", AS_OF - timedelta(days=1))
    assert world.computed()["all3"]["next_step"] == "renegotiate"


def test_at_risk_by_score_and_readjust(world: World) -> None:
    world.land_and_refresh(profile("weak"), charge("wp", "weak", ago(days=3), 60),
                           charge("wf", "weak", ago(days=2), 60, status="failed"),
                           tick("wt", "weak", ago(days=2), "WT", "complaint", 50))
    row = world.computed()["weak"]
    # engagement 0; payment 100 x (1 - 1/2) = 50; support 100/(1 + 50/60) = 54.5; complaint 100/(1 + 1/2) = 66.7;
    # profitability 50 + 50 x 5/60 = 54.2; score 0.2 x 50 + 0.15 x 54.5 + 0.2 x 66.7 + 0.2 x 54.2 = 42.4
    assert row["margin_90d"] == 5.0 and row["health_score"] == 42.4
    assert row["segment"] == "at_risk" and row["segment_reason"] == "health score 42.4 below 50.0"
    assert row["next_step"] == "readjust"


def test_champion_needs_a_high_score_and_an_above_median_margin(world: World) -> None:
    world.land_and_refresh(profile("champ"), charge("cp", "champ", ago(days=3), 200),
                           *(seen(f"cv{k}", "champ", ago(days=k + 0.5)) for k in range(30)))
    row = world.computed()["champ"]
    # engagement 100 x (0.5 x 1 + 0.5 x (1 - 0.5/30)) = 99.2; score 0.25 x 99.2 + 75 = 99.8
    assert row["components"]["engagement"] == 99.2 and row["health_score"] == 99.8
    assert row["usual_visit_gap_days"] == 1.0 and row["fading"] is False
    assert row["segment"] == "champion" and row["next_step"] == "none"


def test_churned_win_back_dates_and_household_flag(world: World) -> None:
    world.land_and_refresh(
        profile("gone", household_id="H1", cancelled_at="2026-11-01T00:00:00Z"),
        profile("kin", household_id="H1"), charge("kp", "kin", ago(days=3), 30),
    )
    for rows in (world.computed(), world.maintained()):
        gone, kin = rows["gone"], rows["kin"]
        assert gone["segment"] == "churned" and gone["next_step"] == "none"
        assert gone["win_back_dates"] == [datetime(2026, 12, 1), datetime(2027, 4, 30)]
        assert kin["household_churned"] == ["gone"] and kin["household_churn_flag"] is True
        assert gone["household_churned"] == []
    before = world.computed(datetime(2026, 10, 15))
    assert before["gone"]["segment"] != "churned" and before["kin"]["household_churned"] == []


def test_returned_after_exit_same_id_or_household(world: World) -> None:
    world.land_and_refresh(profile("x1", household_id="H2", cancelled_at="2026-10-05T00:00:00Z"),
                           profile("bystander", household_id="H2", signed_up_at="2026-01-01T00:00:00Z"))
    world.intervene("x1", "exit", datetime(2026, 10, 1))
    rows = world.computed()
    assert rows["x1"]["returned_after_exit"] is False and rows["bystander"]["returned_after_exit"] is False
    assert rows["x1"]["exited_at"] == datetime(2026, 10, 1)
    # A new account in the same household after the exit.
    world.land_and_refresh(profile("x2", household_id="H2", signed_up_at="2026-10-15T00:00:00Z"))
    rows = world.computed()
    assert rows["x2"]["returned_after_exit"] is True and rows["x2"]["returned_after_exit_of"] == "x1"
    # The same id signs up again.
    world.land_and_refresh(profile("x1", household_id="H2", signed_up_at="2026-11-01T00:00:00Z",
                                   occurred_at="2026-11-01T00:00:00Z"))
    for rows in (world.computed(), world.maintained()):
        assert rows["x1"]["returned_after_exit"] is True and rows["x1"]["returned_after_exit_of"] == "x1"


def test_drift_toward_unprofitable_with_projected_days(world: World) -> None:
    world.land_and_refresh(profile("drift"), charge("dp", "drift", ago(days=3), 100),
                           tick("dt", "drift", ago(days=2), "DT", "bug", 50))
    world.snapshot("drift", AS_OF - timedelta(days=30), score=95.0, margin=120.0)
    world.snapshot("drift", AS_OF - timedelta(days=14), score=90.0, margin=100.0)
    world.snapshot("drift", AS_OF - timedelta(days=7), score=80.0, margin=70.0, component=60.0)
    row = world.computed()["drift"]
    # score 0.2 x 100 + 0.15 x 54.5 + 0.2 x 100 + 0.2 x 75 = 63.2; margin 50 now, 100 14 days ago:
    # -50/14 per day, 0 in 50 / (50/14) = 14.0 days
    assert row["margin_90d"] == 50.0 and row["health_score"] == 63.2
    assert row["score_change_7d"] == -16.8 and row["score_change_30d"] == -31.8
    assert row["drifting_toward"] == "unprofitable" and row["days_to_threshold"] == 14.0
    assert row["moved"] == {"engagement": -60.0, "payment_behaviour": 40.0, "support_burden": -5.5,
                            "complaint_behaviour": 40.0, "profitability": 15.0}


def test_drift_toward_terrorist(world: World) -> None:
    world.land_and_refresh(
        profile("heat"), charge("hp", "heat", ago(days=3), 1000),
        *(tick(f"hc{i}", "heat", ago(days=i + 1), f"HC{i}", "complaint", 1) for i in range(6)),
    )
    world.snapshot("heat", AS_OF - timedelta(days=14), score=90.0, margin=1000.0, complaint_index=2.0)
    row = world.computed()["heat"]
    # index 6 now, 2 fourteen days ago: +4/14 per day, threshold 8 in 2 / (4/14) = 7.0 days
    assert row["segment"] != "terrorist" and row["drifting_toward"] == "terrorist"
    assert row["days_to_threshold"] == 7.0
    # Before it gets there, the playbook's first step: readjust; once tried, not again within retry_after_days.
    assert row["segment"] in ("healthy", "champion") and row["next_step"] == "readjust"
    assert row["next_step_reason"].startswith(f"{row['segment']} but drifting toward terrorist: ~7 days to the "
                                              "threshold at its recent trend; diagnose what changed and readjust")
    world.intervene("heat", "readjust", AS_OF - timedelta(days=1))
    assert world.computed()["heat"]["next_step"] == "none"


def test_no_drift_beyond_the_horizon(world: World) -> None:
    world.land_and_refresh(profile("slow"), charge("sp", "slow", ago(days=3), 100))
    world.snapshot("slow", AS_OF - timedelta(days=14), score=90.0, margin=110.0)
    row = world.computed()["slow"]
    assert row["drifting_toward"] is None and row["days_to_threshold"] is None   # 140 days away


def test_refreshes_snapshot_segment_changes_and_days(world: World) -> None:
    points = "select count(distinct snapshot_at), count(*) from health_snapshots where reason = 'daily'"
    # The history: a point per UTC day of the window (8 in these worlds), every known customer at each.
    assert world.con.execute(points).fetchone() == (8, 40)
    world.land_and_refresh(profile("loss"), charge("lp", "loss", ago(days=3), 20),
                           tick("lt", "loss", ago(days=2), "LT", "bug", 50))
    # Its events are dated before the last point: the history is derived again, then everyone refreshed.
    changes = world.con.execute(
        "select customer_id, from_segment, to_segment, refresh_kind from segment_changes where customer_id = 'loss'"
    ).fetchall()
    # A new segment of the current state, found by the late batch: its first segment, from the history points
    # (no event of the day: no step of the live path), recorded at today's point; the history holds the
    # points' changes (healthy after the charge, unprofitable after the ticket).
    assert changes == [("loss", None, "unprofitable", "full")]
    assert world.con.execute("select changed_at from segment_changes where customer_id = 'loss'").fetchall() == \
        [(datetime.combine(AS_OF.date(), datetime.min.time()),)]
    assert world.con.execute("select from_segment, to_segment from health_history_changes where customer_id = 'loss' "
                             "order by changed_at").fetchall() == [(None, "healthy"), ("healthy", "unprofitable")]
    assert world.con.execute(points).fetchone() == (8, 48)
    # The next UTC day: a full refresh after the day's point.
    result = world.land_and_refresh(seen("nv", "o1", ago(days=-1)), now=AS_OF + timedelta(days=1))
    assert result.kind == "full" and result.reason == "day_rollover"
    assert world.con.execute(points).fetchone() == (9, 54)
    # ... and compacts the rollup rows the batches appended into one per customer and day.
    assert world.con.execute("select count(*) from customer_day where batch_id is not null").fetchone() == (0,)
    assert world.con.execute(
        "select count(*) from (select customer_id, day from customer_day group by all having count(*) > 1)"
    ).fetchone() == (0,)


class WallClock:
    """A wall clock a test sets by hand (naive UTC)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


NORMS_IN_USE = "select median_margin_90d, customers from health_norms order by computed_at desc limit 1"


def defer_the_history(world: World) -> None:
    """A backlog (the consumer lags by more than health.history_defer_lag_messages, 0 here): the day's point waits,
    so a full refresh derives with the portfolio's norms at its time."""
    world.con.execute("insert into consumer_lag values ('visits', 0, 10, 9, 1, ?)", [AS_OF])


def test_with_the_days_point_stored_the_norms_are_the_points_however_the_portfolio_moves(tmp_path: Path) -> None:
    """The norms of a day are those of its history point (an evaluation at any instant uses them): a drift or an
    age within the day refreshes no one, as a full refresh would derive with the same norms again (before, every
    check after a drift refreshed everyone, the drift never going away); the next day's point brings the move."""
    world = World(tmp_path, norms_check_seconds=0.0, norms_max_age_minutes=30.0)
    wall = WallClock(AS_OF)
    world.refresher = HealthRefresher(world.health, wall_clock=wall)
    try:
        assert world.land_and_refresh(*ordinary_portfolio()).reason == "first"
        assert world.con.execute(NORMS_IN_USE).fetchone() == (10.0, 5)
        # Five more active customers, their profiles dated months back: the history is derived again from
        # their day (the norms of each point with them), then everyone refreshed with the day's point's norms.
        wall.now = AS_OF + timedelta(seconds=30)
        result = world.land_and_refresh(*(profile(f"new{i}") for i in range(5)), now=wall.now)
        assert (result.kind, result.reason) == ("full", "history_rebuilt")
        assert world.con.execute(NORMS_IN_USE).fetchone()[1] == 10
        # Seven of the ten pay 1,000: the median margin moves from 5 (five at 10, five at 0) to 1,005, checked
        # at every batch.
        wall.now = AS_OF + timedelta(minutes=1)
        payers = ("o1", "o2", "o3", "o4", "o5", "new0", "new1")
        assert world.land_and_refresh(*(charge(f"big-{c}", c, ago(hours=1), 1000) for c in payers),
                                      now=wall.now).kind == "incremental"
        for minute in (2, 3, 40):  # drifted, then old as well
            wall.now = AS_OF + timedelta(minutes=minute)
            assert world.land_and_refresh(seen(f"n{minute}", "o4", ago(hours=1)), now=wall.now).kind == \
                "incremental"
        assert world.con.execute("select count(*) from health_refreshes where kind = 'full'").fetchone() == (2,)
        assert world.con.execute(NORMS_IN_USE).fetchone() == (5.0, 10)
        # The next day's first refresh: its point's norms hold the move.
        tomorrow = AS_OF + timedelta(days=1)
        result = world.land_and_refresh(seen("d2", "o5", ago(hours=-24)), now=tomorrow)
        assert (result.kind, result.reason) == ("full", "day_rollover")
        assert world.con.execute(NORMS_IN_USE).fetchone() == (1005.0, 10)
        # A pipeline started with other [health] settings re-derives everyone at its first batch.
        world.refresher = HealthRefresher(world.health.with_overrides(cost_per_support_minute=2.0), wall_clock=wall)
        result = world.land_and_refresh(seen("n5", "o5", ago(hours=-25)), now=tomorrow + timedelta(minutes=1))
        assert (result.kind, result.reason) == ("full", "settings_changed")
        assert world.land_and_refresh(seen("n6", "o5", ago(hours=-25)), now=tomorrow + timedelta(minutes=2)).kind == \
            "incremental"
    finally:
        world.close()


def test_while_the_days_point_waits_the_norms_are_recomputed_when_they_drift_or_age(tmp_path: Path) -> None:
    """Without the day's point (a backlog defers it), the norms are the portfolio's at the last full refresh: a
    drift past health.norms_max_drift refreshes everyone once, with the new norms (the check after it finds none),
    and norms older than health.norms_max_age_minutes are recomputed."""
    world = World(tmp_path, norms_check_seconds=0.0, norms_max_age_minutes=30.0, history_defer_lag_messages=0)
    wall = WallClock(AS_OF)
    world.refresher = HealthRefresher(world.health, wall_clock=wall)
    try:
        defer_the_history(world)
        assert world.land_and_refresh(*ordinary_portfolio()).reason == "first"
        assert world.con.execute("select count(*) from health_history_norms").fetchone() == (0,)
        assert world.con.execute(NORMS_IN_USE).fetchone() == (10.0, 5)
        wall.now = AS_OF + timedelta(minutes=1)
        assert world.land_and_refresh(*(charge(f"big-{c}", c, ago(hours=1), 1000) for c in ("o1", "o2", "o3")),
                                      now=wall.now).kind == "incremental"  # the check reads the state before it
        wall.now = AS_OF + timedelta(minutes=2)
        result = world.land_and_refresh(seen("n2", "o4", ago(hours=1)), now=wall.now)
        assert (result.kind, result.reason) == ("full", "norms_drift")
        assert world.con.execute(NORMS_IN_USE).fetchone() == (1010.0, 5)
        wall.now = AS_OF + timedelta(minutes=3)
        assert world.land_and_refresh(seen("n3", "o4", ago(hours=1)), now=wall.now).kind == "incremental"
        wall.now = AS_OF + timedelta(minutes=40)
        result = world.land_and_refresh(seen("n4", "o5", ago(hours=1)), now=wall.now)
        assert (result.kind, result.reason) == ("full", "norms_age")
    finally:
        world.close()


def test_the_norms_age_is_wall_clock_time_whatever_the_model_clock(tmp_path: Path) -> None:
    """health.norms_max_age_minutes bounds what the refreshes cost: counted on the wall clock, so a model
    clock running a day per wall minute (the demo) does not refresh everyone every model hour, and a model
    clock standing still (late events only) still has the norms refreshed once they are old."""
    world = World(tmp_path, norms_max_age_minutes=60.0, history_defer_lag_messages=0)
    wall = WallClock(datetime(2030, 1, 1, 9, 0))  # the wall clock, far from the events (AS_OF, 2026)
    world.refresher = HealthRefresher(world.health, wall_clock=wall)
    try:
        defer_the_history(world)  # the norms are the portfolio's, so that their age counts
        assert world.land_and_refresh(*ordinary_portfolio()).reason == "first"
        # Five model hours pass in 20 wall seconds: incremental refreshes only.
        for hours in range(1, 6):
            wall.now += timedelta(seconds=4)
            assert world.land_and_refresh(seen(f"m{hours}", "o1", ago(hours=-hours)),
                                          now=AS_OF + timedelta(hours=hours)).kind == "incremental"
        # An hour of wall clock with the model's time standing still: the norms are old.
        wall.now += timedelta(minutes=61)
        stalled = AS_OF + timedelta(hours=5)
        result = world.land_and_refresh(seen("late1", "o2", ago(hours=2)), now=stalled)
        assert (result.kind, result.reason) == ("full", "norms_age")
        # Another wall hour, the model's time still standing: old again, and recorded at the same model time
        # as the norms before, with the wall clock of this refresh: the next batch is incremental again.
        wall.now += timedelta(minutes=61)
        result = world.land_and_refresh(seen("late0", "o4", ago(hours=3)), now=stalled)
        assert (result.kind, result.reason) == ("full", "norms_age")
        assert world.con.execute("select count(*), max(recorded_at) from health_norms where computed_at = ?",
                                 [stalled]).fetchone() == (1, wall.now)
        wall.now += timedelta(seconds=5)
        assert world.land_and_refresh(seen("late2", "o3", ago(hours=2)), now=stalled).kind == "incremental"
    finally:
        world.close()


def test_a_change_at_the_days_point_alone_is_recorded_at_that_point(world: World) -> None:
    # Revenue of 100 on the oldest day of the 90-day window, 10 support minutes since: profitable today; the
    # next UTC day the charge has left the window, and without any event of that day w turns unprofitable at
    # its point (00:00 UTC), which the alerts' feed records there.
    world.land_and_refresh(profile("roll"), charge("rp", "roll", ago(days=89), 100),
                           tick("rt", "roll", ago(days=5), "RT", "bug", 10))
    assert world.maintained()["roll"]["segment"] != "unprofitable"
    before = world.con.execute("select count(*) from segment_changes where customer_id = 'roll'").fetchone()
    tomorrow = datetime.combine((AS_OF + timedelta(days=1)).date(), datetime.min.time())
    result = world.land_and_refresh(seen("nv", "o1", ago(days=-1)), now=AS_OF + timedelta(days=1))
    assert result.reason == "day_rollover" and world.maintained()["roll"]["segment"] == "unprofitable"
    assert world.con.execute(
        "select changed_at, to_segment from segment_changes where customer_id = 'roll' order by rowid offset ?",
        [before[0]]).fetchall() == [(tomorrow, "unprofitable")]
