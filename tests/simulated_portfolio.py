"""A simulated portfolio evaluated by the health model: events of the simulator landed in a real DuckDB file
(through the load path, clock source "events"), and the figures a portfolio is judged by."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from customer_health.clock import model_now
from customer_health.composition import finish_load, load_lander
from customer_health.config import ClockSettings, QuackSettings, Settings
from customer_health.db import open_owner
from customer_health.health.queries import health_rows
from customer_health.simulate import SimEvent, write_jsonl
from customer_health.sqlfiles import Statements
from ingest.files import load_files


@dataclass(frozen=True)
class Figures:
    customers: int
    segments: dict[str, float]  # share of the known customers per segment
    visits_per_ticket_event: float
    top30_margin_share: float  # margin_90d of the top 30% by margin, over the total margin, active customers
    as_of: datetime

    @property
    def terrorist_share(self) -> float:
        return self.segments.get("terrorist", 0.0)

    @property
    def healthy_or_champion(self) -> float:
        return self.segments.get("healthy", 0.0) + self.segments.get("champion", 0.0)


class Portfolio:
    """A database that events are loaded into, file batch by file batch, as `customer-health load` does."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.settings = Settings(db_path=directory / "portfolio.duckdb", clock=ClockSettings(source="events"),
                                 quack=QuackSettings(enabled=False))
        self.con: duckdb.DuckDBPyConnection = open_owner(self.settings)
        self.lander = load_lander(self.con, self.settings)
        self._files = 0

    def load(self, events: Iterable[SimEvent | tuple[datetime, SimEvent]]) -> None:
        self._files += 1
        paths = write_jsonl(events, self.directory / f"events-{self._files}")
        load_files(self.lander, [paths[t] for t in ("customers", "visits", "tickets", "payments")])
        finish_load(self.con, self.settings)  # as `customer-health load` does once its files have landed

    def rows(self) -> list[dict[str, Any]]:
        """Every known customer's health evaluated from scratch at the model's now (as ``--as-of`` does)."""
        db = Statements(self.con.cursor())
        return health_rows(db, self.settings, as_of=model_now(db))

    def figures(self) -> Figures:
        rows = self.rows()
        counts = Counter(r["segment"] for r in rows)
        margins = sorted((float(r["margin_90d"] or 0) for r in rows if r["segment"] != "churned"), reverse=True)
        top = margins[: round(len(margins) * 0.3)]
        visits, ticket_events = self.con.execute(
            "select (select count(*) from visits), (select count(*) from tickets)").fetchone()
        return Figures(
            customers=len(rows),
            segments={s: n / len(rows) for s, n in counts.items()},
            visits_per_ticket_event=visits / max(1, ticket_events),
            top30_margin_share=sum(top) / sum(margins) if sum(margins) > 0 else 0.0,
            as_of=model_now(Statements(self.con.cursor())),
        )

    def close(self) -> None:
        self.con.close()
