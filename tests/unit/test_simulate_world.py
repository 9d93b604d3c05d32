"""The live world: the history's per-customer rates on a simulated clock, with drift, recovery, churn and
newcomers (customer_health.simulate.world)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from itertools import islice, takewhile

import pytest

from customer_health.simulate import SimulationSettings, build_population, generate_history, generate_world
from customer_health.simulate.world import CANCEL_PER_DAY
from tests.unit.test_simulate import COMPLAINTS, END, problems, ts

DAYS = 20


@pytest.fixture(scope="module")
def world() -> list[tuple[str, dict]]:
    until = END + timedelta(days=DAYS)
    items = list(takewhile(lambda item: item[0] < until, generate_world(SimulationSettings(speed=1440), END)))
    assert all(t.tzinfo is not None for t, _ in items)
    assert [t for t, _ in items] == sorted(t for t, _ in items)
    assert items[0][0] >= END
    for t, e in items:
        assert ts(json.loads(e.value)["occurred_at"]) == t.replace(microsecond=0)
    return [(e.topic, json.loads(e.value)) for _, e in items]


def _per_day(docs: list[tuple[str, dict]], days: float) -> Counter[str]:
    counts = Counter(topic for topic, _ in docs)
    return Counter({topic: n / days for topic, n in counts.items()})


def test_world_events_satisfy_the_contract(world: list[tuple[str, dict]]) -> None:
    for topic, doc in world:
        assert not problems(topic, json.dumps(doc).encode()), (topic, doc)


def test_world_keeps_the_history_s_event_rates_per_day(world: list[tuple[str, dict]]) -> None:
    """Nothing is multiplied: visits and tickets per simulated day as in the last weeks of the history."""
    settings = SimulationSettings()
    since = END - timedelta(days=DAYS)
    history = [(e.topic, json.loads(e.value)) for e in generate_history(settings, END)]
    recent = [(t, d) for t, d in history if t != "customers" and ts(d["occurred_at"]) >= since]
    before, live = _per_day(recent, DAYS), _per_day([(t, d) for t, d in world if t != "customers"], DAYS)
    for topic in ("visits", "tickets", "payments"):
        assert live[topic] == pytest.approx(before[topic], rel=0.2), (topic, live[topic], before[topic])
    assert live["visits"] >= 3 * live["tickets"]


def test_world_is_deterministic_and_follows_speed_only_through_pacing() -> None:
    a = list(islice(generate_world(SimulationSettings(speed=1440), END), 300))
    b = list(islice(generate_world(SimulationSettings(speed=1440), END), 300))
    assert a == b
    slow = list(islice(generate_world(SimulationSettings(speed=1.0, live_drifters=0), END), 300))
    fast = list(islice(generate_world(SimulationSettings(speed=1440, live_drifters=0), END), 300))
    assert [t for t, _ in slow] == [t for t, _ in fast]  # the clock's speed changes pacing, not event times


def test_individuals_drift_cancel_and_newcomers_sign_up(world: list[tuple[str, dict]]) -> None:
    settings = SimulationSettings()
    people = {c.customer_id: c for c in build_population(settings)}
    profiles = [d for t, d in world if t == "customers"]
    newcomers = [d for d in profiles if d["customer_id"] not in people]
    cancelled = {d["customer_id"]: ts(d["cancelled_at"]) for d in profiles if "cancelled_at" in d}
    expected = CANCEL_PER_DAY * DAYS * settings.customers  # about 10 of each in 20 days
    assert 0.3 * expected <= len(newcomers) <= 2.5 * expected
    assert 0.3 * expected <= len(cancelled) <= 2.5 * expected
    assert len({d["customer_id"] for d in newcomers}) == len(newcomers)
    first_seen: dict[str, int] = {}
    for i, (_, d) in enumerate(world):
        first_seen.setdefault(d["customer_id"], i)
    for d in newcomers:  # a newcomer's profile comes before its activity
        assert world[first_seen[d["customer_id"]]][1] == d
    for topic, d in world:  # nothing from a customer after its cancellation
        if d["customer_id"] in cancelled and topic != "customers":
            assert ts(d["occurred_at"]) <= cancelled[d["customer_id"]]
    # the live drifters turned within the first simulated day (45 wall seconds at 1 day a minute)
    drifters = {cid for cid, c in people.items() if c.live_drift_to == "terrorist"}
    complaints = Counter(d["customer_id"] for t, d in world if t == "tickets" and d["customer_id"] in drifters
                         and d["action"] == "opened" and d["category"] in COMPLAINTS)
    assert drifters and len(complaints) >= len(drifters) // 2, (drifters, complaints)
