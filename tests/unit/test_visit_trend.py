"""The score sees a customer fading from their own baseline (visit_trend, fading_factor), the same whether
computed from scratch (--as-of) or maintained batch by batch; hand-computed on a real DuckDB."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from customer_health.health.queries import customer_health
from tests.health_world import AS_OF, World, ago, ordinary_portfolio, profile, seen


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


def daily_visits(cid: str, days_ago: range) -> list[tuple[str, dict]]:
    return [seen(f"v-{cid}-{d}", cid, ago(days=d)) for d in days_ago]


def test_a_customer_fading_from_their_own_rate_loses_their_score_a_steady_one_keeps_it(world: World) -> None:
    world.land_and_refresh(
        *ordinary_portfolio(),
        profile("steady"), *daily_visits("steady", range(1, 90)),
        profile("fading"), *daily_visits("fading", range(31, 90)),
    )
    # a second batch: the maintained rows go through the incremental refresh (visits_30d kept per batch)
    world.land_and_refresh(seen("v-steady-0", "steady", ago(days=0)), seen("v-fading-10", "fading", ago(days=10)))
    for rows in (world.computed(), world.maintained()):
        steady, fading = rows["steady"], rows["fading"]
        # the 30-day window starts 2026-10-22 00:00; the first visit (89 days ago) was 59.5 days before it
        assert (steady["visits_30d"], fading["visits_30d"]) == (30, 1)
        assert steady["usual_visits_30d"] == pytest.approx(30 * 60 / 59.5, abs=0.01)
        assert fading["usual_visits_30d"] == pytest.approx(30 * 59 / 59.5, abs=0.01)
        # steady: (30 + 4) / (30.25 + 4), seen today; fading: (1 + 4) / (29.75 + 4), and the last visit 10
        # days ago against a usual gap of 79 / 59 days: exp(-(10 - 79/59) / (4 x 79/59))
        assert steady["visit_trend"] == pytest.approx(34 / 34.25, abs=1e-3)
        gap = 79 / 59
        assert fading["visit_trend"] == pytest.approx(5 / 33.75 * 2.718281828 ** (-(10 - gap) / (4 * gap)), abs=1e-3)
        assert steady["fading_factor"] == 1.0
        assert fading["fading_factor"] == pytest.approx((fading["visit_trend"] / 0.8) ** 3, abs=1e-4)
        assert steady["health_score"] >= 75 and fading["health_score"] < 1
        assert fading["segment"] == "at_risk"
    document = customer_health(world.reader(), world.settings, "fading", AS_OF)  # customer --json
    assert (document["visits_30d"], document["usual_visits_30d"]) == (1, round(30 * 59 / 59.5, 2))
    assert document["visit_trend"] < 0.05 and document["fading_factor"] < 0.001


def test_without_a_baseline_the_score_is_the_weighted_mean(world: World) -> None:
    # o1..o5 were seen once: fewer than fading_min_visits (3) visits before the 30-day window
    world.land_and_refresh(*ordinary_portfolio())
    for rows in (world.computed(), world.maintained()):
        row = rows["o1"]
        assert row["usual_visits_30d"] is None and row["visit_trend"] is None and row["fading_factor"] == 1.0
        weights = world.settings.health.weights.model_dump()
        mean = sum(weights[k] * v for k, v in row["components"].items()) / sum(weights.values())
        assert row["health_score"] == pytest.approx(mean, abs=0.06)


def test_a_fading_power_of_zero_turns_the_factor_off(tmp_path: Path) -> None:
    w = World(tmp_path, fading_trend_power=0.0)
    try:
        w.land_and_refresh(*ordinary_portfolio(), profile("fading"), *daily_visits("fading", range(31, 90)))
        row = w.computed()["fading"]
        assert row["visit_trend"] < 0.2 and row["fading_factor"] == 1.0
    finally:
        w.close()
