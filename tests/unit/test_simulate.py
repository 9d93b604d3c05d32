"""The simulator: determinism, the v1 event contract, archetype signatures, sinks and the live clock."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from customer_health.simulate import (
    SimEvent,
    SimulationSettings,
    build_population,
    generate_history,
    generate_live,
    produce,
    write_jsonl,
)

END = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SMALL = SimulationSettings(customers=80, history_days=30, seed=7)

# ---------------------------------------------------------------- contract v1, checked independently

RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})")
COMMON = {"event_id": ("str", True), "customer_id": ("str", True), "occurred_at": ("ts", True)}
CONTRACT: dict[str, dict[str, tuple[Any, bool]]] = {
    "tickets": {
        "ticket_id": ("str", True),
        "action": ({"opened", "updated", "resolved", "reopened"}, True),
        "category": ({"how_to", "bug", "billing", "complaint", "compensation_request", "cancellation",
                      "legal_threat", "other"}, True),
        "channel": ({"phone", "email", "chat", "in_person", "social"}, True),
        "handling_minutes": (("num", 0, None), True),
        "escalated": ("bool", True),
        "compensation_requested": ("money0", False),
        "compensation_granted": ("money0", False),
        "sentiment": (("num", -1, 1), False),
    },
    "payments": {
        "invoice_id": ("str", True),
        "kind": ({"charge", "refund", "chargeback", "credit"}, True),
        "status": ({"succeeded", "failed", "pending"}, True),
        "amount": ("money", True),
        "currency": ("currency", True),
        "due_at": ("ts", False),
    },
    "visits": {
        "session_id": ("str", True),
        "channel": ({"web", "app", "store", "phone"}, True),
        "duration_seconds": (("num", 0, None), True),
        "pages": ("int", False),
    },
    "customers": {
        "name": ("str", True),
        "kind": ({"b2b", "b2c"}, True),
        "plan": ("str", True),
        "household_id": ("str", False),
        "signed_up_at": ("ts", True),
        "cancelled_at": ("ts", False),
    },
}


def _is_number(v: object) -> bool:
    return isinstance(v, int | Decimal) and not isinstance(v, bool)


def _field_problem(rule: Any, v: object) -> str | None:
    if isinstance(rule, set):
        return None if isinstance(v, str) and v in rule else "invalid_value"
    if rule == "str":
        return None if isinstance(v, str) and v.strip() else "wrong_type"
    if rule == "bool":
        return None if isinstance(v, bool) else "wrong_type"
    if rule == "int":
        return None if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else "wrong_type"
    if rule == "ts":
        if not isinstance(v, str) or not RFC3339.fullmatch(v):
            return "invalid_timestamp"
        try:
            parsed = datetime.fromisoformat(v)
        except ValueError:
            return "invalid_timestamp"
        return None if parsed.tzinfo is not None else "invalid_timestamp"
    if rule == "currency":
        return None if isinstance(v, str) and re.fullmatch(r"[A-Z]{3}", v) else "invalid_value"
    if rule in ("money", "money0"):  # a JSON number with at most 2 decimals
        if not _is_number(v):
            return "wrong_type"
        d = Decimal(v)  # type: ignore[arg-type]
        if d < 0 or (rule == "money" and d == 0) or d.as_tuple().exponent < -2:  # type: ignore[operator]
            return "out_of_range"
        return None
    _, lo, hi = rule
    if not _is_number(v):
        return "wrong_type"
    return None if (lo is None or v >= lo) and (hi is None or v <= hi) else "out_of_range"  # type: ignore[operator]


def problems(topic: str, raw: bytes) -> list[str]:
    """Every way ``raw`` breaks contract v1 for ``topic`` (empty when it is a valid event)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return ["not_utf8"]
    try:
        doc = json.loads(text, parse_float=Decimal)
    except ValueError:
        return ["invalid_json"]
    if not isinstance(doc, dict):
        return ["not_an_object"]
    spec = {**COMMON, **CONTRACT[topic]}
    found = [f"extra:{k}" for k in doc if k not in spec]
    for name, (rule, required) in spec.items():
        if name not in doc or doc[name] is None:
            if required:
                found.append(f"missing:{name}")
            continue
        problem = _field_problem(rule, doc[name])
        if problem:
            found.append(f"{problem}:{name}")
    return found


def decode(events: Iterable[SimEvent]) -> list[tuple[str, dict[str, Any]]]:
    return [(e.topic, json.loads(e.value)) for e in events]


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.fixture(scope="module")
def default_history() -> list[SimEvent]:
    return list(generate_history(SimulationSettings(), END))


@pytest.fixture(scope="module")
def by_archetype(default_history: list[SimEvent]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    archetype = {c.customer_id: c.archetype for c in build_population(SimulationSettings())}
    out: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for topic, doc in decode(default_history):
        out[archetype[doc["customer_id"]]].append((topic, doc))
    return out


def test_the_checker_rejects_what_the_contract_rejects() -> None:
    good = {"event_id": "e1", "customer_id": "C1", "occurred_at": "2026-11-20T09:15:00+01:00",
            "invoice_id": "i", "kind": "charge", "status": "succeeded", "amount": 12.5, "currency": "EUR"}
    assert problems("payments", json.dumps(good).encode()) == []
    for change in ({"amount": 12.345}, {"amount": 0}, {"amount": "12.50"}, {"kind": "gift"},
                   {"occurred_at": "2026-11-20T09:15:00"}, {"occurred_at": "2026-02-30T09:15:00Z"},
                   {"status": True}, {"currency": "EURO"}, {"extra": 1}):
        assert problems("payments", json.dumps({**good, **change}).encode()), change
    assert problems("payments", json.dumps({k: v for k, v in good.items() if k != "amount"}).encode())
    assert problems("payments", b"\xff" + json.dumps(good).encode()) == ["not_utf8"]


# ---------------------------------------------------------------- determinism and the contract


def test_same_seed_same_events_and_different_seed_different_events() -> None:
    first = list(generate_history(SMALL, END))
    assert first == list(generate_history(SMALL, END))
    other = list(generate_history(replace(SMALL, seed=8), END))
    assert [e.value for e in other] != [e.value for e in first]
    live = list(islice(generate_live(SMALL, END), 500))
    assert live == list(islice(generate_live(SMALL, END), 500))
    assert [e.value for _, e in islice(generate_live(replace(SMALL, seed=8), END), 500)] != [
        e.value for _, e in live
    ]


def test_every_generated_event_satisfies_the_contract(default_history: list[SimEvent]) -> None:
    live = [e for _, e in islice(generate_live(replace(SimulationSettings(), live_profiles=True), END), 8000)]
    bad = [(e.topic, problems(e.topic, e.value), e.value[:200]) for e in default_history + live]
    bad = [b for b in bad if b[1]]
    assert not bad, bad[:5]
    topics = Counter(e.topic for e in default_history)
    assert set(topics) == {"customers", "tickets", "payments", "visits"}
    assert all(e.key == json.loads(e.value)["customer_id"] for e in default_history[:2000])


def test_event_ids_unique_across_history_and_live_and_ticket_ids_follow_a_lifecycle(
    default_history: list[SimEvent],
) -> None:
    live = [e for _, e in islice(generate_live(SimulationSettings(), END), 20000)]
    docs = decode(default_history + live)
    ids = [d["event_id"] for _, d in docs]
    assert len(ids) == len(set(ids))
    allowed = {"opened": {"updated", "resolved"}, "updated": {"updated", "resolved"},
               "resolved": {"reopened"}, "reopened": {"updated", "resolved"}}
    tickets: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for topic, d in docs:
        if topic == "tickets":
            tickets[d["ticket_id"]].append(d)
    for ticket_id, events in tickets.items():
        actions = [e["action"] for e in events]
        assert actions[0] == "opened", (ticket_id, actions)
        assert all(b in allowed[a] for a, b in zip(actions, actions[1:], strict=False)), (ticket_id, actions)
        assert len({(e["customer_id"], e["category"], e["channel"]) for e in events}) == 1
        times = [ts(e["occurred_at"]) for e in events]
        assert times == sorted(times)
    lengths = Counter(len(v) for v in tickets.values())
    assert sum(n for k, n in lengths.items() if k >= 3) > len(tickets) / 3
    assert sum("reopened" in {e["action"] for e in v} for v in tickets.values()) > 10


def test_history_order_window_and_profiles_first(default_history: list[SimEvent]) -> None:
    settings = SimulationSettings()
    docs = decode(default_history)
    profiles = docs[: settings.customers]
    assert all(topic == "customers" for topic, _ in profiles)
    assert len({d["customer_id"] for _, d in profiles}) == settings.customers
    window_start = END - timedelta(days=settings.history_days)
    assert all(ts(d["signed_up_at"]) < window_start for _, d in profiles)
    times = [ts(d["occurred_at"]) for _, d in docs]
    assert times == sorted(times)
    assert all(window_start <= t < END for t in times[settings.customers:])
    offsets = Counter(d["occurred_at"][-6:] for _, d in docs)
    assert len(offsets) >= 3  # several UTC offsets, all explicit


def test_realistic_amounts_handling_and_currencies(default_history: list[SimEvent]) -> None:
    docs = decode(default_history)
    minutes = [d["handling_minutes"] for t, d in docs if t == "tickets"]
    assert 5 <= min(minutes) and max(minutes) <= 60
    payments = [d for t, d in docs if t == "payments"]
    assert Counter(d["currency"] for d in payments)["EUR"] > 0.7 * len(payments)
    kinds = Counter(d["kind"] for d in payments)
    assert kinds["charge"] > 0.7 * len(payments)
    assert kinds["refund"] and kinds["credit"] and kinds["chargeback"]
    visits = [d for t, d in docs if t == "visits"]
    assert {d["channel"] for d in visits} == {"web", "app", "store", "phone"}
    assert 60 < sorted(d["duration_seconds"] for d in visits)[len(visits) // 2] < 1200
    plans = Counter(d["plan"] for t, d in docs if t == "customers")
    assert set(plans) == {"basic", "standard", "premium", "enterprise"}
    kinds_of_customer = Counter(d["kind"] for t, d in docs[:500])
    assert kinds_of_customer["b2b"] > 50 and kinds_of_customer["b2c"] > 200


# ---------------------------------------------------------------- bad events


def test_bad_event_share_gives_that_share_of_invalid_messages_and_keeps_the_good_ones() -> None:
    clean = list(generate_history(SMALL, END))
    dirty = list(generate_history(replace(SMALL, bad_event_share=0.1), END))
    verdicts = [problems(e.topic, e.value) for e in dirty]
    invalid = [v for v in verdicts if v]
    assert abs(len(invalid) / len(dirty) - 0.1) < 0.002

    def without_id(e: SimEvent) -> tuple[str, str, dict[str, Any]]:
        doc = json.loads(e.value)
        doc.pop("event_id")
        return e.topic, e.key, doc

    good = [without_id(e) for e, v in zip(dirty, verdicts, strict=True) if not v]
    assert good == [without_id(e) for e in clean]
    kinds = Counter(v[0].split(":")[0] for v in invalid)
    assert {"not_utf8", "invalid_json", "not_an_object", "missing", "wrong_type"} <= set(kinds)
    assert kinds["out_of_range"] + kinds["invalid_value"] + kinds["invalid_timestamp"] > 0
    assert all(b"\n" not in e.value for e in dirty)

    live = [e for _, e in islice(generate_live(replace(SMALL, bad_event_share=0.25), END), 4000)]
    share = sum(bool(problems(e.topic, e.value)) for e in live) / len(live)
    assert abs(share - 0.25) < 0.005


# ---------------------------------------------------------------- archetype signatures


COMPLAINTS = {"complaint", "compensation_request", "legal_threat", "billing", "cancellation"}


def _tickets(docs: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [d for t, d in docs if t == "tickets"]


def test_terrorists_complain_escalate_and_get_compensated(by_archetype: dict) -> None:
    tickets = _tickets(by_archetype["terrorist"])
    assert sum(d["category"] in COMPLAINTS for d in tickets) > 0.75 * len(tickets)
    assert sum(d["escalated"] for d in tickets) > 0.6 * len(tickets)
    assert sum(d["category"] == "legal_threat" for d in tickets) > 0.05 * len(tickets)
    assert sum(d.get("compensation_granted", 0) for d in tickets) > 500
    sentiments = [d["sentiment"] for d in tickets if "sentiment" in d]
    assert sum(sentiments) / len(sentiments) < -0.4
    champion_tickets = _tickets(by_archetype["champion"])
    assert sum(d["escalated"] for d in champion_tickets) < 0.15 * len(champion_tickets)


def test_how_to_customers_ask_long_how_to_questions(by_archetype: dict) -> None:
    tickets = _tickets(by_archetype["how_to"])
    assert sum(d["category"] == "how_to" for d in tickets) > 0.7 * len(tickets)
    opened = [d["handling_minutes"] for d in tickets if d["action"] == "opened"]
    champion = [d["handling_minutes"] for d in _tickets(by_archetype["champion"]) if d["action"] == "opened"]
    assert sum(opened) / len(opened) > 30 > sum(champion) / len(champion)
    assert len(opened) / _count("how_to") > 5 * len(champion) / _count("champion")


def _count(archetype: str) -> int:
    return sum(c.archetype == archetype for c in build_population(SimulationSettings()))


def test_champions_spend_most_and_visit_often(by_archetype: dict) -> None:
    def paid_per_customer(archetype: str) -> float:
        docs = by_archetype[archetype]
        paid = sum(d["amount"] for t, d in docs if t == "payments" and d["kind"] == "charge"
                   and d["status"] == "succeeded" and d["currency"] == "EUR")
        return paid / len({d["customer_id"] for _, d in docs})

    assert paid_per_customer("champion") > 3 * paid_per_customer("how_to")
    visits = sum(t == "visits" for t, _ in by_archetype["champion"]) / _count("champion")
    assert visits > 30  # about 0.8 a day over 90 days


def test_faders_fade_without_cancelling(by_archetype: dict) -> None:
    docs = by_archetype["fader"]
    first = sum(t == "visits" and ts(d["occurred_at"]) < END - timedelta(days=60) for t, d in docs)
    last = sum(t == "visits" and ts(d["occurred_at"]) >= END - timedelta(days=30) for t, d in docs)
    assert first > 300 and last < 0.1 * first
    assert not any("cancelled_at" in d for t, d in docs if t == "customers")


def test_bad_payers_fail_charge_back_and_leave_invoices_overdue(by_archetype: dict) -> None:
    def overdue_and_failed(docs: list[tuple[str, dict[str, Any]]]) -> tuple[set[str], set[str], int]:
        invoices: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for t, d in docs:
            if t == "payments":
                invoices[d["invoice_id"]].append(d)
        overdue, failed = set(), set()
        for events in invoices.values():
            charges = [e for e in events if e["kind"] == "charge"]
            if any(e["status"] == "failed" for e in charges):
                failed.add(charges[0]["customer_id"])
            due = [ts(e["due_at"]) for e in charges if "due_at" in e]
            if due and max(due) < END and not any(e["status"] == "succeeded" for e in charges):
                overdue.add(charges[0]["customer_id"])
        chargebacks = sum(e["kind"] == "chargeback" for v in invoices.values() for e in v)
        return overdue, failed, chargebacks

    overdue, failed, chargebacks = overdue_and_failed(by_archetype["bad_payer"])
    payers = {d["customer_id"] for _, d in by_archetype["bad_payer"]}
    assert len(overdue) > 0.5 * len(payers) and len(failed) > 0.7 * len(payers) and chargebacks >= 5
    assert not overdue_and_failed(by_archetype["champion"])[0]


def test_households_share_an_id_and_churn_together(by_archetype: dict) -> None:
    docs = by_archetype["household"]
    profiles = [d for t, d in docs if t == "customers"]
    cancelled = {d["customer_id"]: ts(d["cancelled_at"]) for d in profiles if "cancelled_at" in d}
    members: dict[str, set[str]] = defaultdict(set)
    for d in profiles:
        members[d["household_id"]].add(d["customer_id"])
    assert len(members) >= 10 and all(2 <= len(m) <= 5 for m in members.values())
    assert set(cancelled) == {c for m in members.values() for c in m}
    for m in members.values():
        times = sorted(cancelled[c] for c in m)
        assert times[-1] - times[0] <= timedelta(days=29)
        assert END - timedelta(days=90) < times[0]
    assert all(ts(d["occurred_at"]) <= cancelled[d["customer_id"]] for _, d in docs)
    last_words = [d for t, d in docs if t == "tickets" and d["category"] == "cancellation"]
    assert len({d["customer_id"] for d in last_words}) >= 0.8 * len(cancelled)


def test_drifters_change_behaviour_at_their_drift_point(default_history: list[SimEvent]) -> None:
    settings = SimulationSettings()
    start = END - timedelta(days=settings.history_days)
    drift = {c.customer_id: start + (END - start) * c.drift_at
             for c in build_population(settings) if c.drift_to == "terrorist" and c.drift_at is not None}
    before = after = 0
    for topic, d in decode(default_history):
        if topic == "tickets" and d["customer_id"] in drift and d["action"] == "opened" and d["escalated"]:
            if ts(d["occurred_at"]) < drift[d["customer_id"]]:
                before += 1
            else:
                after += 1
    assert len(drift) >= 5 and after > 10 * max(before, 1)


def test_population_mix_and_ids() -> None:
    people = build_population(SimulationSettings())
    assert [c.customer_id for c in people] == [f"C{i:05d}" for i in range(1, 501)]
    mix = Counter(c.archetype for c in people)
    assert set(mix) == set(SimulationSettings().archetype_mix)
    assert 100 < mix["quiet"] < 190
    live = [c for c in people if c.live_drift_to]
    assert len(live) == 8 and {c.archetype for c in live} <= {"champion", "quiet"}
    only = build_population(replace(SimulationSettings(), archetype_mix={"terrorist": 1.0}, customers=20))
    assert {c.archetype for c in only} == {"terrorist"}


@hyp_settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    customers=st.integers(1, 25),
    days=st.integers(1, 20),
    seed=st.integers(0, 10**9),
    household=st.floats(0, 1),
)
def test_any_small_population_produces_valid_events(customers: int, days: int, seed: int,
                                                    household: float) -> None:
    settings = SimulationSettings(customers=customers, history_days=days, seed=seed,
                                  archetype_mix={"household": household, "drifter": 0.5, "fader": 0.2})
    events = list(generate_history(settings, END))
    events += [e for _, e in islice(generate_live(settings, END), 300)]
    assert not [problems(e.topic, e.value) for e in events if problems(e.topic, e.value)]


def test_settings_are_validated() -> None:
    for bad in ({"customers": 0}, {"bad_event_share": 1.0}, {"speed": 0}, {"rate_per_second": -1},
                {"archetype_mix": {"wizard": 1.0}}, {"archetype_mix": {"quiet": 0.0}}):
        with pytest.raises(ValueError):
            SimulationSettings(**bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        next(generate_history(SMALL, datetime(2026, 11, 20)))


# ---------------------------------------------------------------- live stream


def test_live_clock_runs_at_speed() -> None:
    for speed, rate in ((1.0, 50.0), (60.0, 20.0)):
        settings = replace(SMALL, speed=speed, rate_per_second=rate)
        items = list(islice(generate_live(settings, END), 400))
        assert [t for t, _ in items] == [END + timedelta(seconds=n * speed / rate) for n in range(400)]
        for t, e in items:
            assert ts(json.loads(e.value)["occurred_at"]) == t.replace(microsecond=0)


def test_live_drifters_turn_terrorist_or_unprofitable_within_minutes() -> None:
    settings = SimulationSettings()
    drifters = {c.customer_id: c for c in build_population(settings) if c.live_drift_to}
    assert all(c.live_drift_after is not None and c.live_drift_after <= 90 for c in drifters.values())
    seen: Counter[str] = Counter()
    for _, e in islice(generate_live(settings, END), int(120 * settings.rate_per_second)):  # 2 minutes
        d = json.loads(e.value)
        c = drifters.get(d["customer_id"])
        if e.topic != "tickets" or c is None or d["action"] != "opened":
            continue
        if c.live_drift_to == "terrorist" and d["category"] in COMPLAINTS:
            seen[c.customer_id] += 1
        elif c.live_drift_to == "how_to" and d["category"] == "how_to" and d["handling_minutes"] >= 20:
            seen[c.customer_id] += 1
    assert len(seen) >= 6 and sum(seen.values()) >= 60, seen


# ---------------------------------------------------------------- sinks


def test_write_jsonl_round_trips(tmp_path: Path) -> None:
    events = list(generate_history(replace(SMALL, bad_event_share=0.05), END))
    paths = write_jsonl(events, tmp_path / "sim")
    assert {t: p.name for t, p in paths.items()} == {t: f"{t}.jsonl" for t in
                                                      ("customers", "tickets", "payments", "visits")}
    for topic, path in paths.items():
        lines = path.read_bytes().split(b"\n")
        assert lines[-1] == b""
        assert lines[:-1] == [e.value for e in events if e.topic == topic]
    live = list(islice(generate_live(SMALL, END), 50))
    paths = write_jsonl(live, tmp_path / "live")
    assert sum(len(p.read_bytes().splitlines()) for p in paths.values()) == 50


class FakeProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes | None, float]] = []
        self.flushed = 0

    def send(self, topic: str, value: bytes | None = None, key: bytes | None = None) -> None:
        self.sent.append((topic, key, value, time.monotonic()))

    def flush(self, timeout: float | None = None) -> None:
        self.flushed += 1


def test_produce_sends_keyed_messages_to_mapped_topics() -> None:
    events = list(islice(generate_history(SMALL, END), 300))
    producer = FakeProducer()
    topics = {"tickets": "t-x", "payments": "p-x", "visits": "v-x", "customers": "c-x"}
    assert produce(events, producer, topics) == 300
    assert producer.flushed == 1
    assert [(t, k, v) for t, k, v, _ in producer.sent] == [
        (topics[e.topic], e.key.encode(), e.value) for e in events
    ]


def test_produce_paces_live_events_at_speed_and_rate() -> None:
    settings = replace(SMALL, speed=4.0, rate_per_second=100.0)
    items = list(islice(generate_live(settings, END), 41))  # 40 slots * 0.04 s simulated = 1.6 s
    producer = FakeProducer()
    started = time.monotonic()
    assert produce(items, producer, {}, speed=4.0) == 41
    elapsed = time.monotonic() - started
    assert 0.38 <= elapsed < 1.5  # 1.6 simulated seconds at 4x
    assert producer.sent[0][0] in ("tickets", "payments", "visits", "customers")
    producer = FakeProducer()
    started = time.monotonic()
    produce([e for _, e in items[:21]], producer, {}, rate_per_second=50.0)
    assert 0.38 <= time.monotonic() - started < 1.5  # 20 gaps of 20 ms


def test_produce_stops_promptly_and_flushes() -> None:
    stop = threading.Event()
    producer = FakeProducer()
    timer = threading.Timer(0.2, stop.set)
    started = time.monotonic()
    timer.start()
    sent = produce(generate_live(SMALL, END), producer, {}, rate_per_second=0.2, stop=stop)  # 5 s gaps
    assert time.monotonic() - started < 1.5
    assert sent == 1 and len(producer.sent) == 1 and producer.flushed == 1
