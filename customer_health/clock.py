"""Time as the database stores it: naive UTC (DuckDB TIMESTAMP columns carry no zone), and the model's now."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol


def utc_now() -> datetime:
    """Now in UTC, without a zone, as the TIMESTAMP columns hold it."""
    return datetime.now(UTC).replace(tzinfo=None)


class StatementRunner(Protocol):
    """The part of ``sqlfiles.Statements`` that :func:`model_now` uses."""

    def value(self, name: str, params: Mapping[str, Any] | None = None) -> Any: ...


def model_now(db: StatementRunner, wall: datetime | None = None) -> datetime:
    """The model's now (naive UTC), the default as-of of every reader: the latest event time landed when the
    database's pipeline runs with ``[clock] source = "events"``, else the wall clock ``wall`` (default: now).

    The rule is the SQL macro ``health_model_now`` (sql/20_raw/model_clock.sql), which the views use too.
    """
    wall = wall or utc_now()
    value = db.value("clock/model_now", {"wall": wall})
    return value if isinstance(value, datetime) else wall
