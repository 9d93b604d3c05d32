"""Simulation settings and the event record the simulator emits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

TOPICS: tuple[str, ...] = ("customers", "tickets", "payments", "visits")

ARCHETYPES: tuple[str, ...] = (
    "champion",  # high spend, regular visits, few tickets
    "regular",  # the ordinary customer: steady visits and payments, rare simple tickets
    "quiet",  # profitable, rarely seen, rarely needs help
    "how_to",  # high maintenance, low value: many long how_to tickets
    "terrorist",  # complaints, escalations, compensation, legal threats
    "fader",  # regular activity that decays to nothing, never cancels
    "bad_payer",  # failed charges, chargebacks, overdue invoices
    "household",  # b2c households that churn together
    "drifter",  # moves from one archetype to another during the history window
)

DEFAULT_MIX: Mapping[str, float] = MappingProxyType(
    {
        "champion": 0.15,
        "regular": 0.25,
        "quiet": 0.25,
        "how_to": 0.07,
        "terrorist": 0.025,
        "fader": 0.06,
        "bad_payer": 0.05,
        "household": 0.08,
        "drifter": 0.065,
    }
)


@dataclass(frozen=True, slots=True)
class SimEvent:
    """One Kafka message: logical topic, key (the customer_id) and the value bytes.

    ``value`` is UTF-8 JSON for good events, or deliberately broken bytes for bad ones.
    """

    topic: str
    key: str
    value: bytes


@dataclass(frozen=True)
class SimulationSettings:
    """Everything that determines a simulated population and its event streams.

    The same settings always produce the same population and the same events.
    """

    customers: int = 500
    seed: int = 42
    history_days: int = 90
    rate_per_second: float = 50.0  # live events per wall-clock second
    speed: float = 1.0  # simulated seconds per wall-clock second
    archetype_mix: Mapping[str, float] = field(default_factory=lambda: DEFAULT_MIX, hash=False)
    bad_event_share: float = 0.0  # share of all messages that are deliberately invalid, in [0, 1)
    live_drifters: int = 8  # customers who turn terrorist/unprofitable early in the live stream
    live_drift_within_seconds: float = 90.0  # wall-clock seconds after live start by which all have drifted
    live_profiles: bool = False  # generate_live starts with every customer's current profile

    def __post_init__(self) -> None:
        if self.customers < 1:
            raise ValueError("customers must be >= 1")
        if self.history_days < 1:
            raise ValueError("history_days must be >= 1")
        if not self.rate_per_second > 0:
            raise ValueError("rate_per_second must be > 0")
        if not self.speed > 0:
            raise ValueError("speed must be > 0")
        if not 0.0 <= self.bad_event_share < 1.0:
            raise ValueError("bad_event_share must be in [0, 1)")
        if self.live_drifters < 0 or self.live_drift_within_seconds <= 0:
            raise ValueError("live_drifters must be >= 0 and live_drift_within_seconds > 0")
        unknown = set(self.archetype_mix) - set(ARCHETYPES)
        if unknown:
            raise ValueError(f"unknown archetypes in archetype_mix: {sorted(unknown)}")
        if any(w < 0 for w in self.archetype_mix.values()) or sum(self.archetype_mix.values()) <= 0:
            raise ValueError("archetype_mix weights must be >= 0 with a positive sum")
        object.__setattr__(self, "archetype_mix", MappingProxyType(dict(self.archetype_mix)))
