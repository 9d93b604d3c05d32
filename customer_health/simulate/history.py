"""The backfill: every customer's profile, then ``history_days`` of activity in time order."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import datetime
from itertools import count
from random import Random
from typing import Any

from .behaviour import DAY, Actor, Factory, activity_clock, local_clock, profile_payload
from .catalog import Profile
from .encoding import Encoder
from .population import build_population
from .settings import SimEvent, SimulationSettings

_STREAMS = ("visit", "ticket", "purchase")


def epoch(moment: datetime, name: str) -> float:
    """Epoch seconds of a timezone-aware datetime; naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment.timestamp()


def generate_history(settings: SimulationSettings, end: datetime) -> Iterator[SimEvent]:
    """Profiles first, then the activity of the ``history_days`` before ``end``, in time order.

    Guarantees: one ``customers`` event per customer first, ordered by ``signed_up_at`` (which is
    before the window and is also its ``occurred_at``); then every event has ``occurred_at`` in
    [end - history_days, end), non-decreasing. Cancelled customers get a second ``customers`` event
    with ``cancelled_at`` and nothing after it. The output depends only on ``settings`` and ``end``.
    ``end`` must be timezone-aware.
    """
    end_ts = epoch(end, "end")
    window = settings.history_days * DAY
    start_ts = end_ts - window
    actors = [Actor(c, start_ts, window) for c in build_population(settings)]
    rng = Random(f"{settings.seed}:history")
    tag = f"{settings.seed}h{int(end_ts)}"
    factory = Factory(rng, tag)
    encoder = Encoder(tag, Random(f"{settings.seed}:history:bad"), settings.bad_event_share)

    for a in sorted(actors, key=lambda a: (a.signup_ts, a.c.index)):
        yield from encoder.emit(a.signup_ts, "customers", a, profile_payload(a))

    # One queue in time order holds both pending events (topic set) and arrival triggers (topic None,
    # payload = the kind of activity): a trigger that fires schedules its steps, all at or after it.
    seq = count()
    queue: list[tuple[float, int, str | None, Actor, Any]] = []

    def push(ts: float, topic: str | None, a: Actor, payload: Any) -> None:
        heapq.heappush(queue, (ts, next(seq), topic, a, payload))

    # Arrivals are a Poisson process in activity time (see activity_clock), so they follow the time of
    # day without rejections; drifts and fading thin them: accept with rate(now) / peak * intensity.
    for a in actors:
        for kind in _STREAMS:
            peak = max(_rate(a.before, kind), _rate(a.after, kind))
            if peak > 0:
                u = activity_clock(start_ts + a.offset_s) + rng.expovariate(peak)
                push(local_clock(u) - a.offset_s, None, a, (kind, u, peak))
        for t in a.monthly_charges(start_ts, end_ts):
            push(t, None, a, ("charge", 0.0, 0.0))
        if a.cancel_ts < end_ts:
            notice = a.cancel_ts - rng.uniform(1, 4) * DAY
            for off, ticket_topic, payload in factory.ticket(a, a.profile_at(notice), "cancellation"):
                push(notice + off, ticket_topic, a, payload)
            push(a.cancel_ts, "customers", a, profile_payload(a, a.cancel_ts))

    while queue and queue[0][0] < end_ts:
        ts, _, topic, a, item = queue[0]
        if topic is not None:
            heapq.heappop(queue)
            if start_ts <= ts and (ts < a.cancel_ts or (ts == a.cancel_ts and topic == "customers")):
                yield from encoder.emit(ts, topic, a, item)
            continue
        kind, u, peak = item
        if kind == "charge":
            heapq.heappop(queue)
            accept = a.intensity(ts) > 0
        else:
            u += rng.expovariate(peak)
            heapq.heapreplace(queue, (local_clock(u) - a.offset_s, next(seq), None, a, (kind, u, peak)))
            p = a.profile_at(ts)
            keep = _rate(p, kind) / peak * a.intensity(ts)
            accept = keep >= 1.0 or rng.random() < keep
        if accept and ts < a.cancel_ts:
            steps = factory.start(kind, a, a.profile_at(ts), ts)
            # The first step happens now: nothing queued is earlier, so it is emitted at once.
            yield from encoder.emit(ts, steps[0][1], a, steps[0][2])
            for off, step_topic, payload in steps[1:]:
                push(ts + off, step_topic, a, payload)


def _rate(p: Profile, kind: str) -> float:
    """Events per day of one kind of activity."""
    if kind == "visit":
        return p.visits_per_day
    return p.tickets_per_day if kind == "ticket" else p.purchases_per_day
