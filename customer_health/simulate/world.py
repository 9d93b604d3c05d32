"""The live world: the population of the history carries on at its own per-customer rates on a simulated
clock, while individuals drift, recover, cancel and sign up, so that the portfolio stays stationary.

Unlike :func:`generate_live` (a load generator: one event per slot at a fixed rate), nothing is multiplied
here: a customer visits, asks and pays as often per simulated day as in the history. Days pass in minutes
when the stream is paced at a fast clock (``SimulationSettings.speed`` simulated seconds per wall second).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import count
from typing import Any

from .behaviour import DAY, Actor, activity_clock, local_clock, profile_payload
from .catalog import PROFILES, Choice, Profile
from .live import live_start
from .population import newcomer
from .settings import SimEvent, SimulationSettings

_STREAMS = ("visit", "ticket", "purchase")
# Per active customer and simulated day: the chance to start drifting to a worse profile, and to cancel
# (new customers sign up at the cancellation rate of the starting portfolio, so its size stays level).
DRIFT_PER_DAY = 0.002
CANCEL_PER_DAY = 0.001
# A drift lasts this many simulated days, then the customer recovers its own profile.
DRIFT_DAYS = (5.0, 25.0)
WORLD_DRIFTS = Choice({"terrorist": 0.3, "how_to": 0.3, "bad_payer": 0.2, "fader": 0.2})


def _rate(p: Profile, kind: str) -> float:
    if kind == "visit":
        return p.visits_per_day
    return p.tickets_per_day if kind == "ticket" else p.purchases_per_day


def generate_world(settings: SimulationSettings, start: datetime) -> Iterator[tuple[datetime, SimEvent]]:
    """Endless ``(occurred_at, event)`` pairs continuing :func:`generate_history` ending at ``start``, at the
    history's per-customer rates, in time order (simulated time, timezone-aware UTC).

    Guarantees: each active customer's visits, tickets and purchases arrive as a Poisson process at the rate
    of its current profile (by time of day as in the history), subscriptions are charged monthly, follow-ups
    (ticket updates, retries, refunds) come at their real-life delays; cancelled and faded customers stay
    silent. Live drifters switch ``live_drift_after * speed`` simulated seconds after ``start``; any active
    customer drifts with DRIFT_PER_DAY and recovers after DRIFT_DAYS; customers cancel (a cancellation ticket,
    then the profile with ``cancelled_at``) with CANCEL_PER_DAY and as many newcomers sign up on average.
    Deterministic for (settings, start); ``start`` must be timezone-aware.
    """
    start_ts, actors, rng, factory, encoder = live_start(settings, start, "world")
    window = settings.history_days * DAY

    seq = count()
    # (time, seq, topic or None, actor or None, payload or trigger): a trigger (topic None) is an arrival
    # ("arrive", kind, generation), a charge, a profile change or a portfolio event (actor None).
    queue: list[tuple[float, int, str | None, Actor | None, Any]] = []
    generation: dict[str, int] = {}
    active: list[Actor] = []
    home: dict[str, Profile] = {}

    def push(ts: float, topic: str | None, a: Actor | None, item: Any) -> None:
        heapq.heappush(queue, (ts, next(seq), topic, a, item))

    def schedule(a: Actor, ts: float) -> None:
        """(Re)start the arrivals of ``a`` at the rates of its live profile."""
        gen = generation[a.customer_id] = generation.get(a.customer_id, 0) + 1
        for kind in _STREAMS:
            rate = _rate(a.live_profile, kind)
            if rate > 0:
                u = activity_clock(ts + a.offset_s) + rng.expovariate(rate)
                push(local_clock(u) - a.offset_s, None, a, ("arrive", kind, gen, u))

    def next_charge(a: Actor, after: float) -> None:
        charges = a.monthly_charges(after, after + 32 * DAY)
        if charges:
            push(charges[0], None, a, ("charge",))

    def join(a: Actor, ts: float) -> None:
        active.append(a)
        home[a.customer_id] = a.live_profile
        schedule(a, ts)
        next_charge(a, ts)

    for actor in actors:
        actor.live_profile = actor.profile_at(start_ts)
        if settings.live_profiles:
            cancelled = actor.cancel_ts if actor.cancel_ts <= start_ts else None
            push(start_ts, "customers", actor, profile_payload(actor, cancelled))
        if actor.cancel_ts > start_ts and actor.intensity(start_ts) > 0:
            join(actor, start_ts)
        c = actor.c
        if c.live_drift_to and c.live_drift_after is not None and actor.cancel_ts > start_ts:
            push(start_ts + c.live_drift_after * settings.speed, None, actor, ("drift", c.live_drift_to))

    portfolio_rate = (DRIFT_PER_DAY + 2 * CANCEL_PER_DAY) * max(1, len(active))  # portfolio events per day
    signup_rate = CANCEL_PER_DAY * max(1, len(active))
    push(start_ts + rng.expovariate(portfolio_rate) * DAY, None, None, ("portfolio",))
    newcomers = count(1)

    while True:
        ts, _, topic, a, item = heapq.heappop(queue)
        if topic is not None:
            assert a is not None
            if ts < a.cancel_ts or (ts == a.cancel_ts and topic == "customers"):
                for event in encoder.emit(ts, topic, a, item):
                    yield datetime.fromtimestamp(ts, UTC), event
            continue
        what = item[0]
        if a is None:  # a portfolio event: a drift, a cancellation or a newcomer
            push(ts + rng.expovariate(portfolio_rate) * DAY, None, None, ("portfolio",))
            r = rng.random() * portfolio_rate
            if r < signup_rate:
                n = next(newcomers)
                c = newcomer(settings, rng, len(actors), f"C{settings.customers + n:05d}-{int(start_ts)}")
                new = Actor(c, ts, window)
                actors.append(new)
                push(ts, "customers", new, profile_payload(new))
                join(new, ts)
                continue
            stable = [x for x in active if x.cancel_ts == float("inf")]
            if not stable:
                continue
            b = stable[min(int(rng.random() * len(stable)), len(stable) - 1)]
            if r < signup_rate + CANCEL_PER_DAY * len(active):
                b.cancel_ts = ts + rng.uniform(1, 4) * DAY
                for off, step_topic, payload in factory.ticket(b, b.live_profile, "cancellation"):
                    push(ts + off, step_topic, b, payload)
                push(b.cancel_ts, "customers", b, profile_payload(b, b.cancel_ts))
            elif b.live_profile is home[b.customer_id]:
                push(ts, None, b, ("drift", WORLD_DRIFTS.pick(rng)))
            continue
        if ts >= a.cancel_ts:
            if a in active:
                active.remove(a)
            continue
        if what == "drift":
            a.live_profile = PROFILES[item[1]]
            schedule(a, ts)
            push(ts + rng.uniform(*DRIFT_DAYS) * DAY, None, a, ("recover",))
        elif what == "recover":
            a.live_profile = home[a.customer_id]
            schedule(a, ts)
        elif what == "charge":
            steps = factory.start("charge", a, a.live_profile, ts)
            _push_steps(push, a, ts, steps)
            next_charge(a, ts + 1)
        else:  # an arrival
            _, kind, gen, u = item
            if gen != generation[a.customer_id]:
                continue  # the profile changed since it was scheduled
            rate = _rate(a.live_profile, kind)
            u += rng.expovariate(rate)
            push(local_clock(u) - a.offset_s, None, a, ("arrive", kind, gen, u))
            _push_steps(push, a, ts, factory.start(kind, a, a.live_profile, ts))


def _push_steps(push: Any, a: Actor, ts: float, steps: list[tuple[float, str, dict[str, Any]]]) -> None:
    for off, topic, payload in steps:
        push(ts + off, topic, a, payload)
