"""The dashboard's typed query layer: one function per table or chart, each returning a DataFrame.

Every function takes a ``Statements`` (customer_health.sqlfiles) and runs named statements from
``sql/statements/dashboard`` or the health and quality engineers' agreed statements; no SQL lives here
and streamlit is never imported (pages render, this module reads). Times are naive UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from customer_health.clock import model_now as clock_model_now
from customer_health.config import HealthSettings
from customer_health.health.backtest import NothingLandedError, backtest
from customer_health.sqlfiles import Statements
from customer_health.vocabulary import NEXT_STEPS, SEGMENTS  # noqa: F401 (the pages read them from here)

KINDS: tuple[str, ...] = ("b2b", "b2c")

def _with_float_lists(df: pd.DataFrame, column: str) -> pd.DataFrame:
    """``column`` as plain lists of floats (DuckDB hands lists over as arrays, masked where null); a null list
    (None, NaN or pandas' NA, e.g. a customer with no history point yet) becomes an empty one."""
    df[column] = [
        [float(v) for v in value if v is not None and v is not np.ma.masked]
        if isinstance(value, list | tuple | np.ndarray) else []
        for value in df[column]
    ]
    return df


# --- Data quality and pipeline -------------------------------------------------------------------------


def model_now(db: Statements, wall: datetime) -> pd.DataFrame:
    """The model's now (one row, column ``now``) when the wall clock says ``wall``."""
    return pd.DataFrame({"now": [clock_model_now(db, wall)]})


def pipeline_overview(db: Statements, now: datetime) -> pd.DataFrame:
    """One row: batches, last_batch_at, messages, landed, dead_lettered, quarantined, messages_last_hour,
    max_latency_ms_last_hour."""
    return db.df("dashboard/pipeline_overview", {"now": now})


def freshness(db: Statements, now: datetime, model_now: datetime, topics: Mapping[str, str]) -> pd.DataFrame:
    """One row per event type: topic, events, newest_event_at, last_landed_at, seconds_since_landed (before
    ``now``, the wall clock), newest_event_age_seconds (before ``model_now``, the model's clock)."""
    df = db.df("dashboard/freshness", {"now": now, "model_now": model_now})
    df.insert(1, "topic", df["event_type"].map(dict(topics)))
    return df


def topic_offsets(db: Statements, group_id: str) -> pd.DataFrame:
    """One row per Kafka topic the consumer group landed from: partitions, next_offsets, last_advanced_at."""
    return db.df("dashboard/topic_offsets", {"group_id": group_id})


def consumer_lag(db: Statements) -> pd.DataFrame:
    """The pipeline's latest recorded lag per partition: topic, partition, end_offset, next_offset, lag,
    observed_at (Tansu's end offsets are approximate)."""
    rows = db.rows("status/recorded_lag")
    return pd.DataFrame(rows, columns=["topic", "partition", "end_offset", "next_offset", "lag", "observed_at"])


def ingest_batches(db: Statements, limit: int = 200) -> pd.DataFrame:
    """The newest ``limit`` batches, newest first."""
    return db.df("dashboard/ingest_batches", {"limit": limit})


def ingest_throughput(db: Statements, since: datetime) -> pd.DataFrame:
    """Per minute since ``since``: batches, messages, landed, dead_lettered, max_latency_ms."""
    return db.df("dashboard/ingest_throughput", {"since": since})


def dead_letter_reasons(db: Statements) -> pd.DataFrame:
    """reason_code, event_type, dead_letters, last_at; most frequent first."""
    return db.df("dashboard/dead_letter_reasons")


def dead_letters(
    db: Statements, reason_code: str | None = None, event_type: str | None = None, limit: int = 500
) -> pd.DataFrame:
    """Dead letters newest first with reason, origin (topic[partition]@offset or file:line) and a text
    preview of the raw bytes."""
    return db.df("dashboard/dead_letters", {"reason_code": reason_code, "event_type": event_type, "limit": limit})


def quality_over_time(db: Statements, since: datetime) -> pd.DataFrame:
    """Per hour, suite and scope: runs, expectations, failed, critical_failed, quarantined."""
    return db.df("dashboard/quality_over_time", {"since": since})


def quality_latest(db: Statements) -> pd.DataFrame:
    """Each suite's latest table run, one row per expectation, failing first; failing_sample is JSON text."""
    return db.df("dashboard/quality_latest")


def quality_batch_failures(db: Statements, since: datetime, limit: int = 200) -> pd.DataFrame:
    """Expectations that failed on landed batches since ``since``, newest first, with sample rows."""
    return db.df("dashboard/quality_batch_failures", {"since": since, "limit": limit})


def quarantine_summary(db: Statements, limit: int = 100) -> pd.DataFrame:
    """Quarantined messages per event type and reason."""
    return db.df("dashboard/quarantine_summary", {"limit": limit})


def flap_rate(db: Statements, now: datetime) -> pd.DataFrame:
    """One row: changes_30d (confirmed segment changes, not first segments, in the 30 days up to ``now``),
    customers (known), flap_rate_30d (their ratio: changes per customer per 30 days; null without customers)."""
    return db.df("dashboard/flap_rate", {"now": now})


def alerts(db: Statements, severity: str | None = None, limit: int = 200) -> pd.DataFrame:
    """The newest alerts (all severities when ``severity`` is None)."""
    return db.df("dashboard/alerts", {"severity": severity, "limit": limit})


def undelivered_alerts(db: Statements, limit: int = 200) -> pd.DataFrame:
    """Alerts that never reached every webhook receiver (failed, pending, held), newest first."""
    return db.df("alerts/never_delivered", {"limit": limit})


# --- Live health ---------------------------------------------------------------------------------------


def kpis(
    db: Statements, now: datetime, kind: str | None = None, plan: str | None = None, segment: str | None = None
) -> pd.DataFrame:
    """One row: customers, active_customers, average_health, champions, at_risk, unprofitable, terrorists,
    margin_below_zero (active customers, terrorists included), drifting, revenue_90d, cost_to_serve_90d,
    margin_90d (money of the active customers, as the Portfolio page; of the chosen segment when ``segment``
    is given), refreshed_at, segment_changes_24h (into or out of ``segment``)."""
    return db.df("dashboard/kpis", {"now": now, "kind": kind, "plan": plan, "segment": segment})


def watchlist(
    db: Statements, now: datetime, kind: str | None = None, plan: str | None = None, segment: str | None = None,
    search: str | None = None, limit: int = 200,
) -> pd.DataFrame:
    """Customers matching the filters, lowest health first, with score_trend (list of 30-day scores); no
    next step (see customer_cards)."""
    return _with_float_lists(db.df("dashboard/watchlist", {
        "now": now, "kind": kind, "plan": plan, "segment": segment, "search": search or None, "limit": limit,
    }), "score_trend")


def customer_cards(
    db: Statements, search: str, kind: str | None = None, plan: str | None = None, segment: str | None = None,
    limit: int = 4,
) -> pd.DataFrame:
    """The customers a search finds, exact id first: name, segment, health_score, p_alive, drifting_toward,
    days_to_threshold, next_step, refreshed_at."""
    return db.df("dashboard/customer_cards", {
        "search": search, "kind": kind, "plan": plan, "segment": segment, "limit": limit,
    })


def drifting(
    db: Statements, now: datetime, kind: str | None = None, plan: str | None = None, segment: str | None = None,
    search: str | None = None, limit: int = 100,
) -> pd.DataFrame:
    """Customers drifting toward unprofitable or terrorist, soonest to cross first, with score_trend,
    what_moved (components that fell in 7 days), next_step and next_step_reason."""
    return _with_float_lists(db.df("dashboard/drifting", {
        "now": now, "kind": kind, "plan": plan, "segment": segment, "search": search or None, "limit": limit,
    }), "score_trend")


def support_minutes(
    db: Statements, kind: str | None = None, plan: str | None = None, segment: str | None = None, limit: int = 20
) -> pd.DataFrame:
    """The top support-time consumers (90 and 30 days) against the portfolio median (times_median)."""
    return db.df("dashboard/support_minutes", {"kind": kind, "plan": plan, "segment": segment, "limit": limit})


def segment_changes(
    db: Statements, since: datetime, kind: str | None = None, plan: str | None = None, segment: str | None = None,
    limit: int = 200,
) -> pd.DataFrame:
    """Segment changes since ``since``, newest first (into or out of ``segment`` when given)."""
    return db.df("dashboard/segment_changes", {
        "since": since, "kind": kind, "plan": plan, "segment": segment, "limit": limit,
    })


def plans(db: Statements) -> pd.DataFrame:
    """The distinct plans (column ``plan``)."""
    return db.df("dashboard/plans")


# --- Portfolio -------------------------------------------------------------------------------------------


def segment_mix(db: Statements, kind: str | None = None, plan: str | None = None) -> pd.DataFrame:
    """Per segment now: customers, revenue_90d, cost_to_serve_90d, margin_90d, average_health."""
    return db.df("dashboard/segment_mix", {"kind": kind, "plan": plan})


def segment_mix_over_time(
    db: Statements, since: datetime, kind: str | None = None, plan: str | None = None
) -> pd.DataFrame:
    """Per history point (``day``, ``as_of``) and segment since ``since``: customers, as the model gave them."""
    return db.df("dashboard/segment_mix_over_time", {"since": since, "kind": kind, "plan": plan})


def segment_flows(db: Statements, since: datetime, kind: str | None = None, plan: str | None = None) -> pd.DataFrame:
    """from_segment, to_segment, customers, moves since ``since``."""
    return db.df("dashboard/segment_flows", {"since": since, "kind": kind, "plan": plan})


def value_at_risk_by_segment(db: Statements, kind: str | None = None, plan: str | None = None) -> pd.DataFrame:
    """Per segment now: customers, scored_customers, average_p_alive, expected_value_90d and value_at_risk_90d
    (the silent-churn model's expected 90-day value, and the part of it at risk of silent churn)."""
    return db.df("churn/value_at_risk_by_segment", {"kind": kind, "plan": plan})


def whale_curve(db: Statements, kind: str | None = None, plan: str | None = None, points: int = 400) -> pd.DataFrame:
    """rank, customer_share, cumulative_margin, cumulative_margin_share (about ``points`` rows)."""
    return db.df("dashboard/whale_curve", {"kind": kind, "plan": plan, "points": points})


def portfolio_summary(db: Statements, kind: str | None = None, plan: str | None = None) -> pd.DataFrame:
    """One row: customers, revenue/cost/margin totals, top_30pct_margin_share, unprofitable_customers,
    profit_lost_to_unprofitable, margin_of_profitable, median revenue and cost to serve."""
    return db.df("dashboard/portfolio_summary", {"kind": kind, "plan": plan})


def revenue_vs_cost(
    db: Statements, kind: str | None = None, plan: str | None = None, limit: int = 5000
) -> pd.DataFrame:
    """At most ``limit`` customers (extremes kept, the rest sampled) with revenue_90d, cost_to_serve_90d,
    margin_90d, segment; customers_total says how many matched."""
    return db.df("dashboard/revenue_vs_cost", {"kind": kind, "plan": plan, "limit": limit})


# --- Customer --------------------------------------------------------------------------------------------


def customer_search(db: Statements, search: str, limit: int = 50) -> pd.DataFrame:
    """customer_id, name, kind, plan, segment, health_score of customers whose id or name contains
    ``search``, exact id first."""
    return db.df("dashboard/customer_search", {"search": search, "limit": limit})


def customer(db: Statements, customer_id: str) -> pd.DataFrame:
    """The customer's customer_health row (components as JSON text); empty when unknown."""
    return db.df("dashboard/customer", {"customer_id": customer_id})


def customer_snapshots(db: Statements, customer_id: str, since: datetime) -> pd.DataFrame:
    """snapshot_at, health_score, segment, components (JSON text), revenue/cost/margin, oldest first."""
    return db.df("dashboard/customer_snapshots", {"customer_id": customer_id, "since": since})


def customer_segment_changes(db: Statements, customer_id: str) -> pd.DataFrame:
    """The customer's segment changes, newest first."""
    return db.df("dashboard/customer_segment_changes", {"customer_id": customer_id})


def customer_timeline(db: Statements, customer_id: str, since: datetime, limit: int = 1000) -> pd.DataFrame:
    """occurred_at, event (ticket|payment|visit|profile), reference, detail, minutes, amount, currency,
    status; newest first."""
    return db.df("dashboard/customer_timeline", {"customer_id": customer_id, "since": since, "limit": limit})


def household(db: Statements, household_id: str) -> pd.DataFrame:
    """The household's customers with segment, health_score, margin_90d, household_churn_flag."""
    return db.df("dashboard/household", {"household_id": household_id})


def customer_interventions(db: Statements, customer_id: str) -> pd.DataFrame:
    """recorded_at, step, note, recorded_by; newest first."""
    return db.df("dashboard/customer_interventions", {"customer_id": customer_id})


def since(now: datetime, period: str) -> datetime:
    """The start of a named period ending at ``now``: '1h', '24h', '7d', '30d', '90d', '365d'."""
    unit, amount = period[-1], int(period[:-1])
    return now - (timedelta(hours=amount) if unit == "h" else timedelta(days=amount))


# --- Model quality ------------------------------------------------------------------------------------


def model_quality(db: Statements, health: HealthSettings, horizon_days: int) -> pd.DataFrame:
    """The backtest (``customer-health backtest --json``) at the latest event time minus ``horizon_days``, as
    one row whose columns are the document's keys (``churn``, ``churn_model``... hold its nested parts); no
    row when no event has landed yet."""
    try:
        document = backtest(db, health, None, horizon_days)
    except NothingLandedError:
        return pd.DataFrame()
    return pd.DataFrame([document])
