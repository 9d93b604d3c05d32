"""Time as the database stores it: naive UTC (DuckDB TIMESTAMP columns carry no zone)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """Now in UTC, without a zone, as the TIMESTAMP columns hold it."""
    return datetime.now(UTC).replace(tzinfo=None)
