"""The demo's world judged by the health model: the default population's history landed in a real DuckDB
(clock source "events") looks like a real portfolio, and the live world keeps it stationary over days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import takewhile

import pytest

from customer_health.simulate import SimulationSettings, generate_history, generate_world
from tests.simulated_portfolio import Figures, Portfolio

END = datetime(2026, 11, 20, tzinfo=UTC)
DAYS = 4


@pytest.fixture(scope="module")
def days(tmp_path_factory: pytest.TempPathFactory) -> list[Figures]:
    """The figures after the default history, then after each simulated day of the live world."""
    portfolio = Portfolio(tmp_path_factory.mktemp("world"))
    settings = SimulationSettings(speed=1440)  # the demo's clock: one simulated day per wall minute
    try:
        portfolio.load(generate_history(settings, END))
        figures = [portfolio.figures()]
        world = list(takewhile(lambda item: item[0] < END + timedelta(days=DAYS), generate_world(settings, END)))
        for day in range(1, DAYS + 1):
            portfolio.load([item for item in world if day - 1 <= (item[0] - END) / timedelta(days=1) < day])
            figures.append(portfolio.figures())
        return figures
    finally:
        portfolio.close()


def test_the_default_history_looks_like_a_real_portfolio(days: list[Figures]) -> None:
    start = days[0]
    assert start.customers == 500
    assert start.visits_per_ticket_event >= 3.0
    assert 0.01 <= start.terrorist_share <= 0.06
    assert start.healthy_or_champion > 0.5
    assert start.top30_margin_share > 0.5
    assert all(share > 0 for share in start.segments.values()) and len(start.segments) == 6


def test_segment_shares_stay_within_a_few_points_while_days_pass(days: list[Figures]) -> None:
    start, end = days[0], days[-1]
    assert end.as_of - start.as_of > timedelta(days=DAYS - 1)  # the model's clock followed the events
    for segment in set(start.segments) | set(end.segments):
        # "A few points": at most 3 percentage points at 500 customers over these days (one customer is 0.2).
        assert abs(end.segments.get(segment, 0) - start.segments.get(segment, 0)) <= 0.03, (start, end)
    for day in days:  # every day of the live world still looks like a real portfolio
        assert day.visits_per_ticket_event >= 3.0 and 0.01 <= day.terrorist_share <= 0.06
        assert day.healthy_or_champion > 0.5 and day.top30_margin_share > 0.5
    assert end.customers > start.customers  # newcomers signed up
