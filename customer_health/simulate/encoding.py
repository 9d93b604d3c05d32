"""Turning payloads into Kafka messages: event ids, JSON, and deliberately invalid messages."""

from __future__ import annotations

import json
from datetime import UTC
from random import Random
from typing import Any

from .behaviour import Actor, Payload, rfc3339
from .settings import SimEvent

_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

BAD_KINDS = ("bad_json", "not_utf8", "not_object", "missing_field", "wrong_type", "out_of_range")

_REQUIRED = {
    "tickets": ("ticket_id", "action", "category", "channel", "handling_minutes", "escalated"),
    "payments": ("invoice_id", "kind", "status", "amount", "currency"),
    "visits": ("session_id", "channel", "duration_seconds"),
    "customers": ("name", "kind", "plan", "signed_up_at"),
}
_COMMON = ("event_id", "customer_id", "occurred_at")
# Field -> a value of the wrong JSON type (note: the contract accepts numeric strings for amounts).
_WRONG_TYPE: dict[str, dict[str, Any]] = {
    "tickets": {"handling_minutes": "twenty", "escalated": "yes", "action": 3, "sentiment": "angry"},
    "payments": {"amount": "a lot", "status": True, "currency": 978},
    "visits": {"duration_seconds": "long", "pages": 2.5, "channel": ["web"]},
    "customers": {"name": 42, "signed_up_at": 1700000000, "kind": 1},
}
_OUT_OF_RANGE: dict[str, dict[str, Any]] = {
    "tickets": {
        "handling_minutes": -15,
        "sentiment": 3.5,
        "category": "rant",
        "action": "closed",
        "compensation_requested": -50,
    },
    "payments": {
        "amount": -12.5,
        "kind": "gift",
        "status": "lost",
        "currency": "EURO",
        "due_at": "next tuesday",
    },
    "visits": {"duration_seconds": -30, "channel": "fax", "pages": -1},
    "customers": {"kind": "b2x", "signed_up_at": "2026-02-30T10:00:00+01:00", "cancelled_at": "soon"},
}


class Encoder:
    """Numbers and encodes events; mixes in invalid messages so they make ``bad_share`` of all output.

    Event ids are ``<tag>-<n>`` with n counting every message of the run, so they are unique within
    the run and deterministic for (seed, tag). Invalid messages are copies of a good event, corrupted
    in one way, with ids of their own; they are spread evenly through the stream.
    """

    def __init__(self, tag: str, rng: Random, bad_share: float) -> None:
        self.tag = tag
        self.rng = rng
        self.n = 0
        self.bad_per_good = bad_share / (1.0 - bad_share)
        self.debt = rng.random() if bad_share else 0.0

    def emit(self, ts: float, topic: str, a: Actor, payload: Payload) -> list[SimEvent]:
        """The good event for ``payload`` at ``ts`` (epoch seconds), then any invalid ones."""
        self.n += 1
        doc = {
            "event_id": f"{self.tag}-{self.n}",
            "customer_id": a.customer_id,
            "occurred_at": rfc3339(ts, UTC if topic == "payments" else a.tz),
        }
        doc.update(payload)
        out = [SimEvent(topic, a.customer_id, _JSON.encode(doc).encode())]
        if self.bad_per_good:
            self.debt += self.bad_per_good
            while self.debt >= 1.0:
                self.debt -= 1.0
                self.n += 1
                out.append(SimEvent(topic, a.customer_id, self._corrupt(topic, doc)))
        return out

    def _corrupt(self, topic: str, good: dict[str, Any]) -> bytes:
        rng = self.rng
        doc = dict(good, event_id=f"{self.tag}-{self.n}")
        kind = BAD_KINDS[rng.randrange(len(BAD_KINDS))]
        if kind == "bad_json":
            raw = _JSON.encode(doc).encode()
            return raw[: rng.randint(1, len(raw) - 1)]
        if kind == "not_utf8":
            # A lone continuation byte inside the customer_id string: valid JSON shape, invalid UTF-8.
            return _JSON.encode(doc).encode().replace(b'"customer_id":"', b'"customer_id":"\x80\xff', 1)
        if kind == "not_object":
            return _JSON.encode([doc]).encode()
        if kind == "missing_field":
            fields = _COMMON + _REQUIRED.get(topic, ())
            del doc[fields[rng.randrange(len(fields))]]
        elif kind == "wrong_type":
            options = {"event_id": 12345, "customer_id": 7, **_WRONG_TYPE.get(topic, {})}
            field = list(options)[rng.randrange(len(options))]
            doc[field] = options[field]
        else:
            options = {"occurred_at": str(doc["occurred_at"])[:19], **_OUT_OF_RANGE.get(topic, {})}
            field = list(options)[rng.randrange(len(options))]
            doc[field] = options[field]
        return _JSON.encode(doc).encode()
