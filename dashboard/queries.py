"""The dashboard's typed query layer: one function per table or chart, each returning a DataFrame.

Every function takes a ``Reader`` (customer_health.db) and runs named statements from
``sql/statements/dashboard`` or the health and quality engineers' agreed statements; no SQL lives here
and streamlit is never imported (pages render, this module reads). Times are naive UTC.

A statement that needs a table this database does not have (a feature not installed yet, e.g. the data
quality tables) raises ``DataUnavailable`` naming the table, so a page can say so instead of failing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import duckdb
import pandas as pd

from customer_health.db import Reader

SEGMENTS: tuple[str, ...] = ("champion", "healthy", "at_risk", "unprofitable", "terrorist", "churned")
NEXT_STEPS: tuple[str, ...] = ("readjust", "educate", "renegotiate", "migrate", "exit", "none")
KINDS: tuple[str, ...] = ("b2b", "b2c")

_MISSING_TABLE = re.compile(r"Table with name (\w+) does not exist", re.IGNORECASE)


class DataUnavailable(Exception):
    """The statement reads a table this database does not hold yet."""

    def __init__(self, table: str) -> None:
        super().__init__(f"this database has no {table} table yet")
        self.table = table


def _df(db: Reader, name: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    try:
        return db.df(name, params)
    except duckdb.Error as exc:
        missing = _MISSING_TABLE.search(str(exc))
        if missing:
            raise DataUnavailable(missing.group(1)) from None
        raise


# --- Data quality and pipeline -------------------------------------------------------------------------


def pipeline_overview(db: Reader, now: datetime) -> pd.DataFrame:
    """One row: batches, last_batch_at, messages, landed, dead_lettered, quarantined, messages_last_hour,
    max_latency_ms_last_hour."""
    return _df(db, "dashboard/pipeline_overview", {"now": now})


def freshness(db: Reader, now: datetime, topics: Mapping[str, str]) -> pd.DataFrame:
    """One row per event type: topic, events, newest_event_at, last_landed_at, seconds_since_landed,
    newest_event_age_seconds (ages are seconds before ``now``)."""
    df = _df(db, "dashboard/freshness", {"now": now})
    df.insert(1, "topic", df["event_type"].map(dict(topics)))
    return df


def topic_offsets(db: Reader, group_id: str) -> pd.DataFrame:
    """One row per Kafka topic the consumer group landed from: partitions, next_offsets, last_advanced_at."""
    return _df(db, "dashboard/topic_offsets", {"group_id": group_id})


def consumer_lag(db: Reader) -> pd.DataFrame:
    """The pipeline's latest recorded lag per partition: topic, partition, end_offset, next_offset, lag,
    observed_at (Tansu's end offsets are approximate)."""
    rows = db.rows("status/recorded_lag")
    return pd.DataFrame(rows, columns=["topic", "partition", "end_offset", "next_offset", "lag", "observed_at"])


def ingest_batches(db: Reader, limit: int = 200) -> pd.DataFrame:
    """The newest ``limit`` batches, newest first."""
    return _df(db, "dashboard/ingest_batches", {"limit": limit})


def ingest_throughput(db: Reader, since: datetime) -> pd.DataFrame:
    """Per minute since ``since``: batches, messages, landed, dead_lettered, max_latency_ms."""
    return _df(db, "dashboard/ingest_throughput", {"since": since})


def dead_letter_reasons(db: Reader) -> pd.DataFrame:
    """reason_code, event_type, dead_letters, last_at; most frequent first."""
    return _df(db, "dashboard/dead_letter_reasons")


def dead_letters(
    db: Reader, reason_code: str | None = None, event_type: str | None = None, limit: int = 500
) -> pd.DataFrame:
    """Dead letters newest first with reason, origin (topic[partition]@offset or file:line) and a text
    preview of the raw bytes."""
    return _df(db, "dashboard/dead_letters", {"reason_code": reason_code, "event_type": event_type, "limit": limit})


def quality_over_time(db: Reader, since: datetime) -> pd.DataFrame:
    """Per hour, suite and scope: runs, expectations, failed, critical_failed, quarantined."""
    return _df(db, "dashboard/quality_over_time", {"since": since})


def quality_latest(db: Reader) -> pd.DataFrame:
    """Each suite's latest table run, one row per expectation, failing first; failing_sample is JSON text."""
    return _df(db, "dashboard/quality_latest")


def quality_batch_failures(db: Reader, since: datetime, limit: int = 200) -> pd.DataFrame:
    """Expectations that failed on landed batches since ``since``, newest first, with sample rows."""
    return _df(db, "dashboard/quality_batch_failures", {"since": since, "limit": limit})


def quarantine_summary(db: Reader, limit: int = 100) -> pd.DataFrame:
    """Quarantined messages per event type and reason."""
    return _df(db, "dashboard/quarantine_summary", {"limit": limit})


def alerts(db: Reader, severity: str | None = None, limit: int = 200) -> pd.DataFrame:
    """The newest alerts (all severities when ``severity`` is None)."""
    return _df(db, "dashboard/alerts", {"severity": severity, "limit": limit})


def since(now: datetime, period: str) -> datetime:
    """The start of a named period ending at ``now``: '1h', '24h', '7d', '30d', '90d', '365d'."""
    unit, amount = period[-1], int(period[:-1])
    return now - (timedelta(hours=amount) if unit == "h" else timedelta(days=amount))
