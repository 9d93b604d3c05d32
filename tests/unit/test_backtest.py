"""The backtest's measures on hand-computed cases, and its outcomes on a hand-built world (real DuckDB)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from customer_health.churn.model import rebuild_transactions
from customer_health.errors import UserError
from customer_health.health.backtest import auc, backtest, flag_quality, roc_points, suggest_weights
from tests.health_world import AS_OF, World, ago, charge, ordinary_portfolio, profile, seen, tick


def test_auc_counts_ties_half_on_a_hand_computed_case() -> None:
    # positives score 10 and 30, negatives 20, 30, 40: of the 6 pairs the positive scores lower in
    # (10,20) (10,30) (10,40) (30,40) and ties in (30,30): (4 + 0.5) / 6
    assert auc([10, 20, 30, 30, 40], [True, False, True, False, False]) == pytest.approx(0.75)
    assert auc([1, 2], [True, False]) == 1.0
    assert auc([1, 2], [False, True]) == 0.0
    assert auc([5, 5, 5], [True, False, False]) == 0.5


def test_auc_is_none_without_a_positive_or_a_negative() -> None:
    assert auc([1, 2, 3], [False, False, False]) is None
    assert auc([1, 2, 3], [True, True, True]) is None


def test_roc_runs_from_the_origin_to_one_one() -> None:
    points = roc_points(np.array([10, 20, 30, 30, 40.0]), np.array([True, False, True, False, False]))
    assert [(p["false_positive_rate"], p["true_positive_rate"]) for p in points] == [
        (0.0, 0.0), (0.0, 0.5), (1 / 3, 0.5), (2 / 3, 1.0), (1.0, 1.0)]


def test_flag_quality_gives_precision_recall_and_lift() -> None:
    flagged = np.array([True, True, False, False, True, False, False, False])
    actual = np.array([True, False, True, False, True, False, False, False])
    q = flag_quality(flagged, actual)
    assert q["flagged"] == 3 and q["flagged_and_happened"] == 2
    assert q["precision"] == pytest.approx(2 / 3) and q["recall"] == pytest.approx(2 / 3)
    assert q["lift"] == pytest.approx((2 / 3) / (3 / 8))


def test_suggested_weights_find_the_predictive_component_and_are_judged_out_of_sample() -> None:
    rng = np.random.default_rng(3)
    n = 600
    components = rng.uniform(0, 100, size=(n, 5))
    churned = components[:, 2] < 30  # only support_burden tells
    current = np.array([0.25, 0.20, 0.15, 0.20, 0.20])
    result = suggest_weights([f"c{i}" for i in range(n)], components, np.ones(n), churned, current)
    assert result["weights"]["support_burden"] == pytest.approx(1.0)
    assert sum(result["weights"].values()) == pytest.approx(1.0)
    assert result["train_customers"] + result["test_customers"] == n and result["test_customers"] > 100
    assert result["test_auc"] == pytest.approx(1.0)
    assert result["current_weights_test_auc"] < 0.8 and result["applied"] is False


T = AS_OF - timedelta(days=40)
HORIZON = 35  # horizon end: 5 days before AS_OF; its last 30 days: (AS_OF - 35 d, AS_OF - 5 d]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    w.land_and_refresh(
        *ordinary_portfolio(),  # known at T, nothing in the 30 days before it: not in the churn figures
        profile("stay"), seen("v-stay-1", "stay", ago(days=50)), seen("v-stay-2", "stay", ago(days=10)),
        charge("p-stay-1", "stay", ago(days=70), 30), charge("p-stay-2", "stay", ago(days=45), 30),
        charge("p-stay-3", "stay", ago(days=20), 30),
        profile("silent"), seen("v-silent", "silent", ago(days=45)),  # never seen again
        profile("cancel"), seen("v-cancel-1", "cancel", ago(days=43)), seen("v-cancel-2", "cancel", ago(days=10)),
        profile("cancel", occurred_at=ago(days=15), cancelled_at=ago(days=15)),
        profile("dormant"), seen("v-dormant", "dormant", ago(days=100)),
        profile("loss"), seen("v-loss", "loss", ago(days=41)), seen("v-loss-2", "loss", ago(days=8)),
        tick("t-loss", "loss", ago(days=20), "tk-loss", "how_to", 100),
        profile("late", occurred_at=ago(days=30)), seen("v-late", "late", ago(days=29)),
        profile("gone", cancelled_at=ago(days=60)), seen("v-gone", "gone", ago(days=42)),
    )
    rebuild_transactions(w.con, w.settings)  # the churn plug-in's rollup (the pipeline and load keep it)
    yield w
    w.close()


def test_backtest_outcomes_follow_the_events_after_t(world: World) -> None:
    doc = backtest(world.reader(), world.settings.health, T, HORIZON)
    assert doc["as_of"] == "2026-10-11T12:00:00Z" and doc["horizon_end"] == "2026-11-15T12:00:00Z"
    # known and not churned at T: the five ordinary customers, stay, silent, cancel, dormant, loss
    # (not late: no profile yet; not gone: cancelled before T)
    assert doc["customers"] == 10
    churn = doc["churn"]
    # active in the 30 days before T: stay, silent, cancel, loss; cancel cancelled, silent went silent
    assert (churn["customers"], churn["churned"], churn["cancelled"], churn["silent"]) == (4, 2, 1, 1)
    assert churn["churn_rate"] == 0.5 and 0.0 <= churn["churn_auc"] <= 1.0
    assert churn["with_baseline"] == 0  # none has 3 visits before T's 30-day window: the score cannot see fading
    assert churn["roc"][0]["true_positive_rate"] == 0.0 and churn["roc"][-1]["true_positive_rate"] == 1.0
    # loss: 100 support minutes at 1.00 and no revenue in the horizon
    assert doc["unprofitability"]["unprofitable"] == 1
    model = doc["churn_model"]
    assert model["calibration_end"] == "2026-10-10"
    assert model["customers"] == 1 and model["actual_transactions"] == 1.0  # stay's charge 20 days ago
    assert [r["frequency"] for r in model["by_frequency"]] == ["1"]


def test_backtest_refuses_a_short_horizon_and_a_horizon_past_the_data(world: World) -> None:
    with pytest.raises(UserError, match="at least 31"):
        backtest(world.reader(), world.settings.health, T, 30)
    with pytest.raises(UserError, match="leaves less than 60 days of data"):
        backtest(world.reader(), world.settings.health, T, 60)


def test_without_as_of_the_backtest_ends_at_the_latest_event(world: World) -> None:
    doc = backtest(world.reader(), world.settings.health, None, 40)
    assert doc["horizon_end"] == "2026-11-19T12:00:00Z"  # the ordinary customers' visits a day before AS_OF


def test_the_backtest_counts_who_had_a_visit_baseline_at_t(world: World) -> None:
    """A usual visit rate at T needs health.fading_min_visits (3) visits before its 30-day window."""
    world.land_and_refresh(*(seen(f"v-base-{d}", "stay", ago(days=d)) for d in (80, 75, 72)))
    assert backtest(world.reader(), world.settings.health, T, HORIZON)["churn"]["with_baseline"] == 1
