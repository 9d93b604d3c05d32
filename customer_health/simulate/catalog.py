"""Behaviour of each archetype and the reference data (plans, prices, currencies, names)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import accumulate
from random import Random


class Choice:
    """A weighted choice among items, drawn with one ``random()`` call."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, weights: Mapping[str, float]) -> None:
        self.items = tuple(weights)
        self.cum = tuple(accumulate(weights.values()))
        self.total = self.cum[-1]

    def pick(self, rng: Random) -> str:
        return self.items[bisect_right(self.cum, rng.random() * self.total)]


_HELP = Choice({"how_to": 0.55, "bug": 0.3, "billing": 0.1, "other": 0.05})
_WEB = Choice({"web": 0.5, "app": 0.4, "store": 0.07, "phone": 0.03})
_DIGITAL = Choice({"email": 0.45, "chat": 0.45, "phone": 0.1})


@dataclass(frozen=True, slots=True)
class Profile:
    """How a customer of one archetype behaves. Rates are events per simulated day."""

    visits_per_day: float
    tickets_per_day: float
    purchases_per_day: float
    visit_channels: Choice = _WEB
    categories: Choice = _HELP
    ticket_channels: Choice = _DIGITAL
    handling_minutes: tuple[float, float] = (5, 20)  # agent minutes for an opened/reopened event
    updates: tuple[int, int] = (0, 1)  # inclusive range of "updated" events per ticket
    reopen_p: float = 0.02
    escalation_p: float = 0.02
    compensation_p: float = 0.0  # share of tickets that ask for compensation
    grant_p: float = 0.0  # share of compensation requests that are (partly) granted
    sentiment: tuple[float, float] = (-0.2, 0.6)
    purchase_amount: tuple[float, float] = (10, 60)  # EUR before currency conversion
    refund_p: float = 0.02  # per succeeded charge
    credit_p: float = 0.01  # goodwill credit per succeeded charge
    fail_p: float = 0.02  # charge fails first, then a retry succeeds
    unpaid_p: float = 0.0  # invoice never paid: pending then failed, due_at passes
    chargeback_p: float = 0.0  # per succeeded charge

    @property
    def rate_per_day(self) -> float:
        """All events started per day, the monthly subscription charge included."""
        return self.visits_per_day + self.tickets_per_day + self.purchases_per_day + 1 / 30


PROFILES: Mapping[str, Profile] = {
    "champion": Profile(
        visits_per_day=2.4,
        tickets_per_day=0.03,
        purchases_per_day=0.15,
        purchase_amount=(20, 150),
        sentiment=(0.3, 1.0),
        fail_p=0.01,
    ),
    "regular": Profile(
        visits_per_day=0.22,
        tickets_per_day=0.015,
        purchases_per_day=0.05,
        sentiment=(0.0, 0.8),
    ),
    "quiet": Profile(
        visits_per_day=0.12,
        tickets_per_day=0.01,
        purchases_per_day=0.02,
        handling_minutes=(5, 15),
        sentiment=(0.0, 0.8),
        refund_p=0.01,
    ),
    "how_to": Profile(
        visits_per_day=0.6,
        tickets_per_day=0.15,
        purchases_per_day=0.01,
        visit_channels=Choice({"web": 0.4, "app": 0.3, "store": 0.1, "phone": 0.2}),
        categories=Choice({"how_to": 0.82, "bug": 0.08, "billing": 0.05, "other": 0.05}),
        ticket_channels=Choice({"phone": 0.5, "chat": 0.25, "email": 0.15, "in_person": 0.1}),
        handling_minutes=(20, 60),
        updates=(1, 3),
        reopen_p=0.15,
        escalation_p=0.05,
        purchase_amount=(5, 20),
        refund_p=0.03,
        fail_p=0.05,
    ),
    "terrorist": Profile(
        visits_per_day=0.4,
        tickets_per_day=0.12,
        purchases_per_day=0.05,
        categories=Choice(
            {
                "complaint": 0.35,
                "compensation_request": 0.2,
                "legal_threat": 0.1,
                "billing": 0.12,
                "cancellation": 0.08,
                "bug": 0.08,
                "how_to": 0.04,
                "other": 0.03,
            }
        ),
        ticket_channels=Choice({"phone": 0.4, "email": 0.25, "social": 0.2, "chat": 0.1, "in_person": 0.05}),
        handling_minutes=(15, 60),
        updates=(1, 4),
        reopen_p=0.35,
        escalation_p=0.7,
        compensation_p=0.6,
        grant_p=0.6,
        sentiment=(-1.0, -0.3),
        purchase_amount=(20, 120),
        refund_p=0.05,
        credit_p=0.03,
        fail_p=0.05,
        chargeback_p=0.02,
    ),
    "fader": Profile(
        visits_per_day=0.9,
        tickets_per_day=0.03,
        purchases_per_day=0.08,
        purchase_amount=(10, 80),
    ),
    "bad_payer": Profile(
        visits_per_day=0.5,
        tickets_per_day=0.06,
        purchases_per_day=0.03,
        categories=Choice({"billing": 0.6, "how_to": 0.2, "bug": 0.1, "other": 0.1}),
        handling_minutes=(10, 30),
        updates=(0, 2),
        reopen_p=0.1,
        escalation_p=0.1,
        compensation_p=0.05,
        grant_p=0.2,
        sentiment=(-0.6, 0.2),
        purchase_amount=(10, 80),
        credit_p=0.0,
        fail_p=0.35,
        unpaid_p=0.35,
        chargeback_p=0.2,
    ),
    "household": Profile(
        visits_per_day=0.5,
        tickets_per_day=0.03,
        purchases_per_day=0.03,
        visit_channels=Choice({"app": 0.6, "web": 0.3, "store": 0.1}),
        reopen_p=0.03,
        sentiment=(-0.3, 0.6),
        purchase_amount=(5, 40),
        fail_p=0.03,
    ),
}

# Source archetype -> target archetype for drifters, with weights.
DRIFTS: Mapping[tuple[str, str], float] = {
    ("quiet", "terrorist"): 0.1,
    ("champion", "fader"): 0.25,
    ("champion", "terrorist"): 0.05,
    ("quiet", "how_to"): 0.15,
    ("quiet", "bad_payer"): 0.15,
}
LIVE_DRIFTS = Choice({"terrorist": 0.6, "how_to": 0.4})

PLAN_PRICE_EUR: Mapping[str, float] = {"basic": 9.99, "standard": 24.99, "premium": 49.99, "enterprise": 89.0}
PLANS: Mapping[str, Choice] = {
    "champion": Choice({"premium": 0.5, "enterprise": 0.3, "standard": 0.2}),
    "regular": Choice({"standard": 0.6, "basic": 0.25, "premium": 0.15}),
    "quiet": Choice({"standard": 0.5, "premium": 0.3, "basic": 0.2}),
    "how_to": Choice({"basic": 0.7, "standard": 0.3}),
    "terrorist": Choice({"basic": 0.3, "standard": 0.3, "premium": 0.3, "enterprise": 0.1}),
    "fader": Choice({"standard": 0.5, "premium": 0.3, "basic": 0.2}),
    "bad_payer": Choice({"basic": 0.5, "standard": 0.4, "premium": 0.1}),
    "household": Choice({"basic": 0.4, "standard": 0.5, "premium": 0.1}),
}
B2B_SHARE: Mapping[str, float] = {
    "champion": 0.4, "regular": 0.25, "quiet": 0.3, "how_to": 0.15, "terrorist": 0.3, "fader": 0.2, "bad_payer": 0.3,
    "household": 0.0,
}
CURRENCIES = Choice({"EUR": 0.85, "GBP": 0.06, "USD": 0.05, "CHF": 0.02, "SEK": 0.02})
EUR_TO: Mapping[str, float] = {"EUR": 1.0, "GBP": 0.86, "USD": 1.08, "CHF": 0.94, "SEK": 11.4}
# Fixed UTC offsets in minutes (no DST: a simplification; the contract only needs an explicit offset).
UTC_OFFSETS: Mapping[int, float] = {60: 0.7, 0: 0.1, 120: 0.1, -300: 0.05, 330: 0.05}

FIRST_NAMES = tuple(
    "Anna Ben Clara David Émilie Finn Greta Hugo Ines Jonas Katarzyna Lukas Maria Noah Olga Paul Renée "
    "Sofia Tomás Zoë".split()
)
LAST_NAMES = tuple(
    "Müller Schmidt García Rossi Dubois Novak Jansen Kowalski Smith Larsen Öztürk Fischer Martin Weber "
    "Silva Nowak Bauer Berg Costa Lindqvist".split()
)
COMPANY_WORDS = tuple(
    "Alpine Blue Nordic Rapid Green Bright Iron Solar Urban Delta Kite Harbor Maple Quantum Crest "
    "Falcon".split()
)
COMPANY_SUFFIXES = ("GmbH", "AG", "Ltd", "B.V.", "S.A.", "SAS", "AB", "Oy")
