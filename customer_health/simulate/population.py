"""The seeded population: who the customers are and how their behaviour changes over time."""

from __future__ import annotations

from dataclasses import dataclass, replace
from random import Random

from .catalog import (
    B2B_SHARE,
    COMPANY_SUFFIXES,
    COMPANY_WORDS,
    CURRENCIES,
    DRIFTS,
    FIRST_NAMES,
    LAST_NAMES,
    LIVE_DRIFTS,
    PLANS,
    UTC_OFFSETS,
    Choice,
)
from .settings import SimulationSettings

_OFFSETS = Choice({str(k): v for k, v in UTC_OFFSETS.items()})

# Times relative to the history window are fractions of it: 0.0 = window start, 1.0 = its end.


@dataclass(frozen=True, slots=True)
class Customer:
    """One simulated customer. ``archetype`` is the ground truth label, never sent in events.

    ``base`` is the behaviour profile in force at the window start; drifters switch to ``drift_to``
    at ``drift_at`` (window fraction). ``live_drift_to`` customers switch ``live_drift_after`` wall
    seconds after the start of the live stream.
    """

    index: int
    customer_id: str
    archetype: str
    base: str
    name: str
    kind: str  # b2b or b2c
    plan: str
    seats: int
    currency: str
    utc_offset_minutes: int
    signup_days_before: float  # days before the window start
    billing_day: int  # day of month of the subscription charge, 1..28
    drift_to: str | None = None
    drift_at: float | None = None
    fade: tuple[float, float] | None = None  # activity falls linearly from 1 to 0 between these fractions
    household_id: str | None = None
    cancel_at: float | None = None
    live_drift_to: str | None = None
    live_drift_after: float | None = None  # wall-clock seconds after the live start


def build_population(settings: SimulationSettings) -> list[Customer]:
    """The customers of ``settings``: identical for identical settings, independent of any clock.

    Guarantees: ``settings.customers`` customers with unique ids ``C00001``...; households have
    2 to 4 members sharing ``household_id``, the first cancels inside the window and the others
    follow within weeks; drifters and faders change inside the window; live drifters come from
    champion or quiet customers.
    """
    rng = Random(f"{settings.seed}:population")
    mix = Choice({k: v for k, v in settings.archetype_mix.items() if v > 0})
    archetypes = [mix.pick(rng) for _ in range(settings.customers)]
    households = [i for i, a in enumerate(archetypes) if a == "household"]
    if len(households) == 1:
        archetypes[households.pop()] = "quiet"
    groups: list[list[int]] = []
    while households:
        size = rng.randint(2, 4)
        if len(households) - size == 1:
            size += 1
        groups.append(households[:size])
        households = households[size:]
    group_of = {i: g for g in groups for i in g}

    drift_pairs = Choice({f"{a}>{b}": w for (a, b), w in DRIFTS.items()})
    customers: list[Customer] = []
    shared: dict[int, tuple[str, float, float, str]] = {}  # group leader -> last name, signup, cancel, id
    for i, archetype in enumerate(archetypes):
        base, drift_to, drift_at, fade = archetype, None, None, None
        household_id, cancel_at = None, None
        if archetype == "drifter":
            base, drift_to = drift_pairs.pick(rng).split(">")
            drift_at = rng.uniform(0.3, 0.7)
            if drift_to == "fader":
                fade = (drift_at, min(0.95, drift_at + 0.35))
        elif archetype == "fader":
            start = rng.uniform(0.1, 0.3)
            fade = (start, start + rng.uniform(0.3, 0.45))
        kind = "b2b" if rng.random() < B2B_SHARE[base] else "b2c"
        plan = PLANS[base].pick(rng)
        seats = rng.randint(3, 60) if kind == "b2b" else 1
        signup = rng.uniform(20, 1000)
        last = rng.choice(LAST_NAMES)
        if archetype == "household":
            group = group_of[i]
            if group[0] == i:
                first_cancel = rng.uniform(0.35, 0.7)
                shared[i] = (last, signup, first_cancel, f"H{i + 1:05d}")
            last, lead_signup, first_cancel, household_id = shared[group[0]]
            signup = max(1.0, lead_signup + rng.uniform(-30, 30))
            follow_days = 0.0 if group[0] == i else rng.uniform(7, 28)
            cancel_at = min(0.98, first_cancel + follow_days / settings.history_days)
        if kind == "b2b":
            name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_SUFFIXES)}"
        else:
            name = f"{rng.choice(FIRST_NAMES)} {last}"
        customers.append(
            Customer(
                index=i,
                customer_id=f"C{i + 1:05d}",
                archetype=archetype,
                base=base,
                name=name,
                kind=kind,
                plan=plan,
                seats=seats,
                currency=CURRENCIES.pick(rng),
                utc_offset_minutes=int(_OFFSETS.pick(rng)),
                signup_days_before=signup,
                billing_day=rng.randint(1, 28),
                drift_to=drift_to,
                drift_at=drift_at,
                fade=fade,
                household_id=household_id,
                cancel_at=cancel_at,
            )
        )

    eligible = [c for c in customers if c.archetype in ("champion", "quiet")]
    chosen = rng.sample(eligible, min(settings.live_drifters, len(eligible)))
    window = settings.live_drift_within_seconds
    for c in sorted(chosen, key=lambda c: c.index):
        after = rng.uniform(0.1, 1.0) * window
        customers[c.index] = replace(c, live_drift_to=LIVE_DRIFTS.pick(rng), live_drift_after=after)
    return customers


def newcomer(settings: SimulationSettings, rng: Random, index: int, customer_id: str) -> Customer:
    """A customer who signs up during the live world: an archetype of the mix that needs no history
    (households and drifters are born in the history), signing up at the moment its actor is placed."""
    weights = {k: v for k, v in settings.archetype_mix.items() if v > 0 and k not in ("household", "drifter")}
    archetype = Choice(weights or {"quiet": 1.0}).pick(rng)
    kind = "b2b" if rng.random() < B2B_SHARE[archetype] else "b2c"
    if kind == "b2b":
        name = f"{rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_WORDS)} {rng.choice(COMPANY_SUFFIXES)}"
    else:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    return Customer(
        index=index, customer_id=customer_id, archetype=archetype, base=archetype, name=name, kind=kind,
        plan=PLANS[archetype].pick(rng), seats=rng.randint(3, 60) if kind == "b2b" else 1,
        currency=CURRENCIES.pick(rng), utc_offset_minutes=int(_OFFSETS.pick(rng)), signup_days_before=0.0,
        billing_day=rng.randint(1, 28),
    )
