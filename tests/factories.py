"""Valid contract-v1 events for tests, and one bad message of every kind the contract refuses."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

BASE = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def ts(minutes: float = 0) -> str:
    return (BASE + timedelta(minutes=minutes)).isoformat()


def ticket(event_id: str, customer_id: str = "c1", **over: object) -> dict:
    return {"event_id": event_id, "customer_id": customer_id, "occurred_at": ts(), "ticket_id": f"t-{event_id}",
            "action": "opened", "category": "how_to", "channel": "email", "handling_minutes": 12.5,
            "escalated": False} | over


def payment(event_id: str, customer_id: str = "c1", **over: object) -> dict:
    return {"event_id": event_id, "customer_id": customer_id, "occurred_at": ts(), "invoice_id": f"i-{event_id}",
            "kind": "charge", "status": "succeeded", "amount": 49.9, "currency": "EUR"} | over


def visit(event_id: str, customer_id: str = "c1", **over: object) -> dict:
    return {"event_id": event_id, "customer_id": customer_id, "occurred_at": ts(), "session_id": f"s-{event_id}",
            "channel": "web", "duration_seconds": 300, "pages": 4} | over


def customer(event_id: str, customer_id: str = "c1", **over: object) -> dict:
    return {"event_id": event_id, "customer_id": customer_id, "occurred_at": ts(), "name": f"Customer {customer_id}",
            "kind": "b2c", "plan": "standard", "signed_up_at": "2025-01-01T00:00:00Z"} | over


FACTORIES = {"tickets": ticket, "payments": payment, "visits": visit, "customers": customer}


def encode(event: dict) -> bytes:
    return json.dumps(event).encode("utf-8")


# (event type, raw message, expected reason_code) for every kind of invalid input the contract refuses.
BAD_MESSAGES: list[tuple[str, bytes, str]] = [
    ("tickets", b"{not json", "invalid_json"),
    ("tickets", b"\xff\xfe\x00garbage", "not_utf8"),
    ("visits", b'["an", "array"]', "not_an_object"),
    ("payments", encode({k: v for k, v in payment("bad-missing").items() if k != "amount"}), "missing_field"),
    ("tickets", encode(ticket("bad-type", handling_minutes="twelve")), "wrong_type"),
    ("tickets", encode(ticket("bad-range", handling_minutes=-3)), "out_of_range"),
    ("tickets", encode(ticket("bad-sentiment", sentiment=1.5)), "out_of_range"),
    ("payments", encode(payment("bad-amount", amount=0)), "out_of_range"),
    ("payments", encode(payment("bad-currency", currency="EURO")), "invalid_value"),
    ("visits", encode(visit("bad-channel", channel="fax")), "invalid_value"),
    ("customers", encode(customer("bad-kind", kind="b2x")), "invalid_value"),
    ("visits", encode(visit("bad-ts", occurred_at="2026-11-01 09:00:00")), "invalid_timestamp"),
    ("tickets", encode(ticket("bad-bool", escalated="yes")), "wrong_type"),
    ("visits", encode(visit("oversized", padding="x" * 5000)), "oversized"),
]

