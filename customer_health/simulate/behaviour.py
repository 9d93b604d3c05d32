"""What customers do: per-run actor state and builders for visits, tickets and invoices.

Builders return ``(offset_seconds, topic, payload)`` steps; the first step has offset 0 and the
offsets are real-life durations that the live stream may compress. Payloads hold the topic fields
only: ``event_id``, ``customer_id`` and ``occurred_at`` are added when the event is encoded.
"""

from __future__ import annotations

import calendar
import math
from bisect import bisect_right
from datetime import UTC, datetime, timedelta, timezone
from itertools import accumulate
from random import Random
from typing import Any

from .catalog import EUR_TO, PLAN_PRICE_EUR, PROFILES, Choice, Profile
from .population import Customer

DAY = 86400.0  # seconds
HOUR = 3600.0  # seconds

Payload = dict[str, Any]
Step = tuple[float, str, Payload]

# Relative activity per local hour of day (max 1.0): quiet nights, busy evenings.
# fmt: off
DIURNAL = (
    0.05, 0.03, 0.02, 0.02, 0.03, 0.08, 0.2, 0.4, 0.6, 0.7, 0.75, 0.8,
    0.8, 0.75, 0.7, 0.7, 0.75, 0.85, 0.95, 1.0, 0.9, 0.6, 0.3, 0.12,
)
# fmt: on
_SHARE = tuple(w / sum(DIURNAL) for w in DIURNAL)  # share of a day's activity in each hour
_CUM = tuple(accumulate(_SHARE))  # activity done by the end of each hour, as a fraction of the day

_COMPENSABLE = frozenset({"complaint", "compensation_request", "legal_threat", "billing", "cancellation"})
# Visit duration: (median seconds, log-normal sigma, seconds per page or 0 for no pages).
_VISIT_SHAPE = {
    "web": (240.0, 0.9, 45.0),
    "app": (150.0, 0.8, 30.0),
    "store": (1200.0, 0.5, 0.0),
    "phone": (420.0, 0.6, 0.0),
}
_DAYS: dict[int, str] = {}


def rfc3339(ts: float, tz: timezone) -> str:
    """Epoch seconds as RFC 3339 with the explicit offset of ``tz``, whole seconds (truncated)."""
    offset = tz.utcoffset(None)
    local = int(ts // 1) + int(offset.total_seconds())
    day, sec = divmod(local, 86400)
    date = _DAYS.get(day)
    if date is None:
        date = _DAYS[day] = datetime.fromtimestamp(day * DAY, UTC).strftime("%Y-%m-%dT")
    hour, sec = divmod(sec, 3600)
    minute, sec = divmod(sec, 60)
    return f"{date}{hour:02d}:{minute:02d}:{sec:02d}{_suffix(tz)}"


def _suffix(tz: timezone) -> str:
    suffix = _SUFFIXES.get(tz)
    if suffix is None:
        minutes = int(tz.utcoffset(None).total_seconds()) // 60
        sign = "-" if minutes < 0 else "+"
        suffix = _SUFFIXES[tz] = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return suffix


_SUFFIXES: dict[timezone, str] = {}


def activity_clock(local_seconds: float) -> float:
    """Local time (seconds) -> activity time (days): each local day holds one unit, spread by DIURNAL."""
    day, sec = divmod(local_seconds, DAY)
    hour = int(sec // HOUR)
    return day + (_CUM[hour] - _SHARE[hour]) + _SHARE[hour] * (sec - hour * HOUR) / HOUR


def local_clock(activity_days: float) -> float:
    """Inverse of :func:`activity_clock`."""
    day, frac = divmod(activity_days, 1.0)
    hour = min(bisect_right(_CUM, frac), 23)
    within = (frac - (_CUM[hour] - _SHARE[hour])) / _SHARE[hour]
    return day * DAY + (hour + within) * HOUR


class Actor:
    """A customer placed on one run's clock: absolute times (epoch seconds, UTC) and prices."""

    __slots__ = ("c", "customer_id", "tz", "offset_s", "before", "after", "drift_ts", "fade", "cancel_ts",
                 "signup_ts", "price", "fx", "live_profile", "live_mix")

    def __init__(self, c: Customer, window_start: float, window_seconds: float) -> None:
        self.c = c
        self.customer_id = c.customer_id
        self.tz = timezone(timedelta(minutes=c.utc_offset_minutes))
        self.offset_s = c.utc_offset_minutes * 60
        self.before: Profile = PROFILES[c.base]
        self.after: Profile = PROFILES[c.drift_to] if c.drift_to else self.before
        self.drift_ts = window_start + c.drift_at * window_seconds if c.drift_at is not None else math.inf
        self.fade = (
            (window_start + c.fade[0] * window_seconds, window_start + c.fade[1] * window_seconds)
            if c.fade
            else None
        )
        self.cancel_ts = window_start + c.cancel_at * window_seconds if c.cancel_at is not None else math.inf
        self.signup_ts = window_start - c.signup_days_before * DAY
        self.fx = EUR_TO[c.currency]
        self.price = round(PLAN_PRICE_EUR[c.plan] * c.seats * self.fx, 2)  # monthly, in c.currency
        self.live_profile = self.before
        self.live_mix = live_mix(self.before)

    def profile_at(self, ts: float) -> Profile:
        return self.after if ts >= self.drift_ts else self.before

    def intensity(self, ts: float) -> float:
        """Activity multiplier in [0, 1]: 1 unless fading, then falling linearly to 0."""
        if self.fade is None or ts <= self.fade[0]:
            return 1.0
        start, end = self.fade
        return 0.0 if ts >= end else (end - ts) / (end - start)

    def monthly_charges(self, start: float, end: float) -> list[float]:
        """Subscription charge times in [start, end): the billing day of each month, 02:00-04:00 UTC."""
        first = datetime.fromtimestamp(start, UTC)
        y, m = first.year, first.month
        out: list[float] = []
        while True:
            ts = calendar.timegm((y, m, self.c.billing_day, 2, 0, 0)) + (self.c.index * 37 % 7200)
            if ts >= end:
                return out
            if ts >= start and ts >= self.signup_ts:
                out.append(float(ts))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def live_mix(p: Profile) -> Choice:
    """Which kind of activity a live event slot starts, in proportion to the profile's daily rates."""
    rates = {"visit": p.visits_per_day, "ticket": p.tickets_per_day, "purchase": p.purchases_per_day}
    return Choice({**rates, "charge": 1 / 30})


def profile_payload(a: Actor, cancelled_ts: float | None = None) -> Payload:
    c = a.c
    out: Payload = {"name": c.name, "kind": c.kind, "plan": c.plan}
    if c.household_id:
        out["household_id"] = c.household_id
    out["signed_up_at"] = rfc3339(a.signup_ts, a.tz)
    if cancelled_ts is not None:
        out["cancelled_at"] = rfc3339(cancelled_ts, a.tz)
    return out


class Factory:
    """Builds activity for actors; ids are ``<prefix>-<tag>-<n>`` and unique within one run tag."""

    def __init__(self, rng: Random, tag: str) -> None:
        self.rng = rng
        self.tag = tag
        self.tickets = 0
        self.invoices = 0
        self.sessions = 0

    def start(self, kind: str, a: Actor, p: Profile, ts: float) -> list[Step]:
        if kind == "visit":
            return self.visit(p)
        if kind == "ticket":
            return self.ticket(a, p)
        if kind == "purchase":
            lo, hi = p.purchase_amount
            return self.invoice(a, p, ts, round(self.rng.uniform(lo, hi) * a.fx, 2), subscription=False)
        return self.invoice(a, p, ts, a.price, subscription=True)

    def visit(self, p: Profile) -> list[Step]:
        rng = self.rng
        self.sessions += 1
        channel = p.visit_channels.pick(rng)
        median, sigma, per_page = _VISIT_SHAPE[channel]
        duration = int(rng.lognormvariate(math.log(median), sigma))
        payload: Payload = {
            "session_id": f"S-{self.tag}-{self.sessions}",
            "channel": channel,
            "duration_seconds": duration,
        }
        if per_page:
            payload["pages"] = max(1, int(duration / per_page * rng.uniform(0.5, 1.5)))
        return [(0.0, "visits", payload)]

    def ticket(self, a: Actor, p: Profile, category: str | None = None) -> list[Step]:
        """opened -> updated* -> resolved, sometimes reopened -> updated -> resolved again."""
        rng = self.rng
        self.tickets += 1
        ticket_id = f"TK-{self.tag}-{self.tickets}"
        category = category or p.categories.pick(rng)
        channel = p.ticket_channels.pick(rng)
        lo, hi = p.handling_minutes
        escalated = category == "legal_threat" or rng.random() < p.escalation_p
        requested = None
        if category == "compensation_request" or (
            category in _COMPENSABLE and rng.random() < p.compensation_p
        ):
            requested = round(rng.uniform(20, 300) * a.fx, 2)

        def event(action: str, minutes: float) -> Payload:
            out: Payload = {
                "ticket_id": ticket_id,
                "action": action,
                "category": category,
                "channel": channel,
                "handling_minutes": round(minutes, 1),
                "escalated": escalated,
            }
            if rng.random() < 0.8:
                out["sentiment"] = round(rng.uniform(*p.sentiment), 2)
            return out

        opened = event("opened", rng.uniform(lo, hi))
        if requested is not None:
            opened["compensation_requested"] = requested
        steps: list[Step] = [(0.0, "tickets", opened)]
        off = 0.0
        for round_ in range(2 if rng.random() < p.reopen_p else 1):
            if round_:
                off += rng.uniform(6, 72) * HOUR
                steps.append((off, "tickets", event("reopened", rng.uniform(lo, hi))))
            for _ in range(rng.randint(*p.updates)):
                off += rng.uniform(1, 30) * HOUR
                escalated = escalated or rng.random() < p.escalation_p / 2
                steps.append((off, "tickets", event("updated", rng.uniform(5, max(10.0, hi * 0.7)))))
            off += rng.uniform(1, 48) * HOUR
            resolved = event("resolved", rng.uniform(5, 15))
            if requested is not None and not round_ and rng.random() < p.grant_p:
                granted = round(requested * rng.uniform(0.3, 1.0), 2)
                resolved["compensation_granted"] = granted
                steps.append((off, "tickets", resolved))
                steps.append((off + HOUR, "payments", self._credit(a, granted)))
            else:
                steps.append((off, "tickets", resolved))
        return steps

    def invoice(self, a: Actor, p: Profile, ts: float, amount: float, *, subscription: bool) -> list[Step]:
        """A charge and its fate: paid, paid after a failed attempt, or never paid (overdue)."""
        rng = self.rng
        self.invoices += 1
        invoice_id = f"INV-{self.tag}-{self.invoices}"
        amount = max(0.01, amount)
        r = rng.random()
        due = rfc3339(ts + (14 if subscription else 7) * DAY, UTC)

        def charge(status: str, with_due: bool) -> Payload:
            out: Payload = {
                "invoice_id": invoice_id,
                "kind": "charge",
                "status": status,
                "amount": amount,
                "currency": a.c.currency,
            }
            if with_due:
                out["due_at"] = due
            return out

        if r < p.unpaid_p:
            due = rfc3339(ts + rng.uniform(3, 10) * DAY, UTC)
            return [
                (0.0, "payments", charge("pending", True)),
                (rng.uniform(0.5, 2) * DAY, "payments", charge("failed", True)),
                (rng.uniform(3, 6) * DAY, "payments", charge("failed", True)),
            ]
        if r < p.unpaid_p + p.fail_p:
            paid = rng.uniform(1, 4) * DAY
            steps = [
                (0.0, "payments", charge("failed", subscription)),
                (paid, "payments", charge("succeeded", subscription)),
            ]
        else:
            paid = 0.0
            steps = [(0.0, "payments", charge("succeeded", subscription))]
        if rng.random() < p.chargeback_p:
            chargeback = self._money(a, "chargeback", amount, invoice_id)
            steps.append((paid + rng.uniform(10, 40) * DAY, "payments", chargeback))
        elif rng.random() < p.refund_p:
            refund = self._money(a, "refund", max(0.01, round(amount * rng.uniform(0.2, 1.0), 2)), invoice_id)
            steps.append((paid + rng.uniform(1, 10) * DAY, "payments", refund))
        if rng.random() < p.credit_p:
            credit = self._credit(a, rng.uniform(5, 25) * a.fx)
            steps.append((paid + rng.uniform(1, 20) * DAY, "payments", credit))
        return steps

    def _credit(self, a: Actor, amount: float) -> Payload:
        """A goodwill or compensation credit note, an invoice of its own."""
        self.invoices += 1
        return self._money(a, "credit", max(0.01, round(amount, 2)), f"CN-{self.tag}-{self.invoices}")

    @staticmethod
    def _money(a: Actor, kind: str, amount: float, invoice_id: str) -> Payload:
        return {"invoice_id": invoice_id, "kind": kind, "status": "succeeded", "amount": amount,
                "currency": a.c.currency}
