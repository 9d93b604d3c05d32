"""A health-model test world on a real DuckDB file: events land through the contract (Lander), the
model refreshes at chosen instants, and rows are read through Statements like the command line does.

Every world starts with five ordinary customers (o1..o5: one visit a day before AS_OF, one 10 EUR
charge five days before, nothing else), so with at most four other customers the portfolio norms are
known by hand: median support minutes 0, median complaint index 0, median margin 10.00.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from customer_health import sqlfiles
from customer_health.config import HealthSettings, Settings, load_settings
from customer_health.db import open_owner
from customer_health.health.queries import health_rows
from customer_health.health.refresh import HealthRefresher, RefreshResult
from customer_health.sqlfiles import Statements
from ingest.landing import Lander, batch_from_rows
from tests.factories import customer, encode, payment, ticket, visit

AS_OF = datetime(2026, 11, 20, 12, 0)  # naive UTC
ORDINARY = ("o1", "o2", "o3", "o4", "o5")


def iso(moment: datetime) -> str:
    """RFC 3339 UTC text of a naive UTC datetime."""
    return moment.replace(tzinfo=UTC).isoformat()


def ago(days: float = 0, hours: float = 0) -> str:
    return iso(AS_OF - timedelta(days=days, hours=hours))


class World:
    def __init__(self, tmp_path: Path, **health: Any) -> None:
        base = load_settings(None, env={})
        # Norm checks only when a test asks: refreshes stay incremental within a day. History: the 8 points
        # the 7-day references need (each point costs a point-in-time evaluation), rebuilt at once.
        health = {"norms_check_seconds": 1e9, "norms_max_age_minutes": 1e9, "history_days": 8,
                  "history_rebuild_interval_seconds": 0.0} | health
        self.settings: Settings = base.with_overrides(
            db_path=tmp_path / "health.duckdb", health=base.health.with_overrides(**health),
        )
        self.con = open_owner(self.settings)
        self.lander = Lander(self.con, "test", 65536)
        self.refresher = HealthRefresher(self.settings.health)
        self._n = 0

    @property
    def health(self) -> HealthSettings:
        return self.settings.health

    def land(self, *events: tuple[str, dict[str, Any]]) -> int:
        """Land events of (type, payload) as one batch through the contract; returns the batch id."""
        rows = [(etype, "test.jsonl", i + 1, encode(payload)) for i, (etype, payload) in enumerate(events)]
        result = self.lander.land(batch_from_rows(rows), "file:test.jsonl")
        assert result.dead_lettered == 0, self.con.execute("select reason from dead_letter").fetchall()
        return result.batch_id

    def refresh(self, batch_id: int, now: datetime = AS_OF) -> RefreshResult:
        self.con.execute("begin")
        try:
            result = self.refresher.refresh_batch(self.con, batch_id, now)
            self.con.execute("commit")
        except BaseException:
            self.con.execute("rollback")
            raise
        return result

    def land_and_refresh(self, *events: tuple[str, dict[str, Any]], now: datetime = AS_OF) -> RefreshResult:
        return self.refresh(self.land(*events), now)

    def idle(self, now: datetime) -> RefreshResult | None:
        """The pipeline's idle hook at ``now``, in a transaction of its own (as ingest.landing.Lander.idle runs it)."""
        self.con.execute("begin")
        try:
            result = self.refresher.refresh_idle(self.con, now)
            self.con.execute("commit")
        except BaseException:
            self.con.execute("rollback")
            raise
        return result

    def full_refresh(self, now: datetime = AS_OF) -> RefreshResult:
        self.con.execute("begin")
        result = self.refresher.full_refresh(self.con, now)
        self.con.execute("commit")
        return result

    def reader(self) -> Statements:
        return Statements(self.con.cursor(), None)

    def computed(self, as_of: datetime = AS_OF) -> dict[str, dict[str, Any]]:
        """Every known customer's health computed from scratch at as_of (customer --as-of)."""
        return {r["customer_id"]: r for r in health_rows(self.reader(), self.settings, as_of=as_of)}

    def maintained(self) -> dict[str, dict[str, Any]]:
        """Every known customer's health as the refreshes maintained it (the customer_health view)."""
        rows = self.reader().run("health/customer_now", {"customer_id": None, "segment": None})
        columns = [d[0] for d in rows.description]
        return {r[0]: dict(zip(columns, r, strict=True)) for r in rows.fetchall()}

    def intervene(self, customer_id: str, step: str, tried_at: datetime, by: str = "tester") -> None:
        sqlfiles.Statements(self.con).run("health/record_intervention", {
            "customer_id": customer_id, "step": step, "note": f"tried {step}", "recorded_by": by,
            "tried_at": tried_at, "recorded_at": tried_at,
        })

    def snapshot(self, customer_id: str, at: datetime, score: float, margin: float, complaint_index: float = 0.0,
                 segment: str = "healthy", component: float = 80.0) -> None:
        """A hand-made history point (drift and score changes are measured against history points), in place
        of the customer's derived ones."""
        self.con.execute("delete from health_snapshots where customer_id = ? and reason = 'daily'", [customer_id])
        self.con.execute(
            "insert into health_snapshots select nextval('health_snapshot_ids'), ?, ?, 'hand', ?, ?, null, "
            "{'engagement': $c, 'payment_behaviour': $c, 'support_burden': $c, 'complaint_behaviour': $c, "
            "'profitability': $c}, 0, 0, ?, ?, 0, 'hand-made'".replace("$c", repr(component)),
            [customer_id, at, score, segment, margin, complaint_index],
        )

    def close(self) -> None:
        self.con.close()


def ordinary_portfolio() -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    for cid in ORDINARY:
        events += [
            ("customers", customer(f"prof-{cid}", cid, occurred_at="2026-01-01T00:00:00Z")),
            ("visits", visit(f"visit-{cid}", cid, occurred_at=ago(days=1))),
            ("payments", payment(f"pay-{cid}", cid, occurred_at=ago(days=5), amount=10, currency="EUR")),
        ]
    return events


def profile(cid: str, **over: Any) -> tuple[str, dict[str, Any]]:
    return "customers", customer(f"prof-{cid}-{over.get('occurred_at', '')}", cid,
                                 **({"occurred_at": "2026-01-01T00:00:00Z"} | over))


def charge(eid: str, cid: str, at: str, amount: float, currency: str = "EUR", **over: Any) -> tuple[str, dict]:
    return "payments", payment(eid, cid, occurred_at=at, amount=amount, currency=currency, **over)


def tick(eid: str, cid: str, at: str, ticket_id: str, category: str, minutes: float, action: str = "opened",
         escalated: bool = False, **over: Any) -> tuple[str, dict]:
    return "tickets", ticket(eid, cid, occurred_at=at, ticket_id=ticket_id, category=category,
                             handling_minutes=minutes, action=action, escalated=escalated, **over)


def seen(eid: str, cid: str, at: str) -> tuple[str, dict]:
    return "visits", visit(eid, cid, occurred_at=at)
