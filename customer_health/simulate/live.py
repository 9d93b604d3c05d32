"""The endless live stream: the same population, one event per slot of a simulated clock."""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import accumulate, count
from random import Random

from .behaviour import DAY, Actor, Factory, Payload, live_mix, profile_payload
from .catalog import PROFILES
from .encoding import Encoder
from .history import epoch
from .population import build_population
from .settings import SimEvent, SimulationSettings

# A real-life day of ticket and payment follow-ups plays out in this many wall-clock seconds live
# (never slower than real time), so tickets opened in a demo get resolved and reopened in front of you.
FOLLOW_UP_WALL_SECONDS_PER_DAY = 30.0
# Share of all event slots each live drifter takes once it has drifted: loud enough to show in minutes.
LIVE_DRIFTER_SHARE = 0.02



def live_start(
    settings: SimulationSettings, start: datetime, stream: str
) -> tuple[float, list[Actor], Random, Factory, Encoder]:
    """What a live stream starts from at ``start``: its epoch seconds, the population with the history window
    ending there behind it, and the stream's seeded generators (``stream`` seeds them; ids share one tag)."""
    start_ts = epoch(start, "start")
    window = settings.history_days * DAY
    actors = [Actor(c, start_ts - window, window) for c in build_population(settings)]
    rng = Random(f"{settings.seed}:{stream}")
    tag = f"{settings.seed}l{int(start_ts)}"
    return start_ts, actors, rng, Factory(rng, tag), Encoder(tag, Random(f"{settings.seed}:{stream}:bad"),
                                                              settings.bad_event_share)

def generate_live(settings: SimulationSettings, start: datetime) -> Iterator[tuple[datetime, SimEvent]]:
    """Endless ``(occurred_at, event)`` pairs continuing the population of :func:`generate_history`.

    Guarantees: the n-th item (from 0) is at ``start + n * speed / rate_per_second`` simulated
    seconds, so paced at ``rate_per_second`` items per wall second the clock runs ``speed`` times
    real time. Times are timezone-aware UTC and equal the event's ``occurred_at``, except for
    invalid messages, which take the slots after the good event they copy. The state at ``start``
    is the end of the history window ending at ``start``: drifts and cancellations there have
    happened, faders are silent. Live drifters switch within ``live_drift_within_seconds`` wall
    seconds and then each take about 2% of all slots. With ``live_profiles`` every customer's
    current profile comes first. Deterministic for (settings, start); ``start`` must be timezone-aware.
    """
    start_ts, actors, rng, factory, encoder = live_start(settings, start, "live")
    step = settings.speed / settings.rate_per_second  # simulated seconds per slot
    compress = min(1.0, FOLLOW_UP_WALL_SECONDS_PER_DAY * settings.speed / DAY)

    weights: list[float] = []
    for a in actors:
        a.live_profile = a.profile_at(start_ts)
        a.live_mix = live_mix(a.live_profile)
        active = a.cancel_ts > start_ts
        weights.append(a.live_profile.rate_per_day * a.intensity(start_ts) if active else 0.0)
    if not any(weights):  # everyone cancelled or faded: keep the stream going with uniform picks
        weights = [1.0] * len(actors)
    base_total = sum(weights)
    cum = list(accumulate(weights))
    drifts = sorted(
        (start_ts + a.c.live_drift_after * settings.speed, a.c.index)
        for a in actors
        if a.c.live_drift_to and a.c.live_drift_after is not None and a.cancel_ts > start_ts
    )

    seq = count()
    pending: list[tuple[float, int, str, Actor, Payload]] = []
    out: deque[SimEvent] = deque()  # encoded but not yet yielded: the invalid copies of a good event
    if settings.live_profiles:
        for a in actors:
            cancelled = a.cancel_ts if a.cancel_ts <= start_ts else None
            pending.append((start_ts, next(seq), "customers", a, profile_payload(a, cancelled)))

    for n in count():
        t = start_ts + n * step
        if not out:
            while drifts and drifts[0][0] <= t:
                a = actors[heapq.heappop(drifts)[1]]
                a.live_profile = PROFILES[a.c.live_drift_to or a.c.base]
                a.live_mix = live_mix(a.live_profile)
                weights[a.c.index] = LIVE_DRIFTER_SHARE * base_total
                cum = list(accumulate(weights))
            if pending and pending[0][0] <= t:
                _, _, topic, a, payload = heapq.heappop(pending)
                out.extend(encoder.emit(t, topic, a, payload))
            else:
                a = actors[min(bisect_right(cum, rng.random() * cum[-1]), len(actors) - 1)]
                steps = factory.start(a.live_mix.pick(rng), a, a.live_profile, t)
                out.extend(encoder.emit(t, steps[0][1], a, steps[0][2]))
                for off, topic, payload in steps[1:]:
                    heapq.heappush(pending, (t + off * compress, next(seq), topic, a, payload))
        yield datetime.fromtimestamp(t, UTC), out.popleft()
