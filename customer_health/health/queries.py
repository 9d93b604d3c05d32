"""Typed reads of the health model for the command line and the dashboard (never imports streamlit).

Every read goes through :class:`customer_health.sqlfiles.Statements`, so it is the same with a running pipeline
(Quack) and without (the file, read-only). Without ``as_of`` the maintained health (``customer_health``)
is read; it is computed on the spot instead when the maintained windows end before today (no pipeline
refreshed it since the UTC day rolled over) or the customer has no row yet. With ``as_of`` everything
is computed from scratch at that instant, with the same SQL a full refresh uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from customer_health.churn.model import customer_figures
from customer_health.clock import model_now
from customer_health.config import Settings
from customer_health.errors import UserError
from customer_health.health.history import segment_history
from customer_health.health.params import health_params
from customer_health.jsonsafe import jsonable
from customer_health.sqlfiles import Statements
from customer_health.vocabulary import SEGMENTS

# The keys of `customer-health customer --json`, in order: the metric names, then the score,
# segment, drift, next step, interventions and win-back.
CUSTOMER_KEYS: tuple[str, ...] = (
    "customer_id", "name", "kind", "plan", "household_id", "signed_up_at", "cancelled_at",
    "as_of", "window_start", "currency",
    "revenue_90d", "support_minutes_30d", "support_minutes_90d", "portfolio_median_support_minutes_90d",
    "support_minutes_vs_median", "support_cost_90d", "compensation_granted_90d", "failed_payment_cost_90d",
    "cost_to_serve_90d", "margin_90d",
    "tickets_90d", "complaints_90d", "compensation_requests_90d", "compensation_requested_amount_90d",
    "legal_threats_90d", "escalations_90d", "how_to_tickets_90d", "how_to_share_90d", "complaint_index_90d",
    "failed_payments_90d", "overdue_invoices_90d", "payment_problem_share_90d", "unpriced_payments_90d",
    "visits_90d", "last_visit_at", "days_since_last_visit", "usual_visit_gap_days", "fading",
    "visits_30d", "usual_visits_30d", "visit_trend", "fading_factor",
    "p_alive", "expected_tx_30d", "expected_tx_90d", "expected_value_90d",
    "health_score", "components", "moved", "segment", "segment_reason", "segment_since", "segment_history",
    "score_change_7d", "score_change_30d", "drifting_toward", "days_to_threshold",
    "next_step", "next_step_reason", "exit_notice", "interventions_tried", "exited_at",
    "win_back_dates", "household_churned", "returned_after_exit", "returned_after_exit_of",
    "refreshed_by", "evaluated",
)
# The keys of each row of `customer-health customers --json`.
SUMMARY_KEYS: tuple[str, ...] = (
    "customer_id", "name", "kind", "plan", "segment", "health_score", "revenue_90d", "cost_to_serve_90d",
    "margin_90d", "support_minutes_90d", "drifting_toward", "days_to_threshold", "next_step", "next_step_reason",
    "win_back_dates",
)


def parse_as_of(text: str | None, option: str = "--as-of") -> datetime | None:
    """An instant option as a naive UTC datetime: RFC 3339 / ISO 8601 (an offset is converted), or a date."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UserError(
            f"{option} {text!r} is not a date or time (use e.g. 2026-11-20 or 2026-11-20T15:00:00Z)"
        ) from None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _records(db: Statements, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    cur = db.run(name, params)
    columns = [d[0] for d in cur.description]
    return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


def _maintained_is_current(db: Statements, now: datetime) -> bool:
    window_day, _, rows = db.row("health/state_freshness")
    return bool(rows) and window_day is not None and window_day >= now.date()


def health_rows(
    db: Statements, settings: Settings, *, customer_id: str | None = None, segment: str | None = None,
    as_of: datetime | None = None, summary: bool = False,
) -> list[dict[str, Any]]:
    """Health rows (every column of customer_health) of one customer, a segment or everyone; with
    ``summary`` only SUMMARY_KEYS, for every customer of the segment (or all).

    ``evaluated`` says where each came from: ``maintained`` (the pipeline's table) or ``computed``.
    """
    if segment is not None and segment not in SEGMENTS:
        raise UserError(f"unknown segment {segment!r} (one of: {', '.join(SEGMENTS)})")
    filters = {"customer_id": customer_id, "segment": segment}
    if as_of is None:
        now = model_now(db)
        if _maintained_is_current(db, now):
            rows = _records(db, "health/summary_now" if summary else "health/customer_now", filters)
            if rows or (customer_id is None):
                return [r | {"evaluated": "maintained", "currency": settings.health.currency} for r in rows]
        as_of = now
    params = {"params": health_params(settings.health), "as_of": as_of, **filters}
    rows = _records(db, "health/summary_at" if summary else "health/customer_at", params)
    return [r | {"evaluated": "computed", "currency": settings.health.currency} for r in rows]


def customer_health(
    db: Statements, settings: Settings, customer_id: str, as_of: datetime | None = None,
) -> dict[str, Any]:
    """Everything about one customer's health (CUSTOMER_KEYS), or a UserError saying why there is none."""
    rows = health_rows(db, settings, customer_id=customer_id, as_of=as_of)
    if not rows:
        profile = db.one("health/customer_profile", {"customer_id": customer_id})
        if profile is None:
            raise UserError(f"no customer {customer_id!r}: no profile has landed for this id")
        raise UserError(f"customer {customer_id!r} has no profile at {as_of:%Y-%m-%d %H:%M:%S} UTC "
                        f"(its profile dates from {profile[-1]:%Y-%m-%d %H:%M:%S} UTC)")
    # Silent churn at the same instant (computed from the churn model's scoring fit; None without one). The
    # model sees purchases only: P(alive) is the health row's (0 once cancelled), and so are the expectations.
    churn = customer_figures(db, customer_id, rows[0]["as_of"])
    if rows[0]["segment"] == "churned":
        churn |= {k: 0.0 for k in ("expected_tx_30d", "expected_tx_90d", "expected_value_90d")
                  if churn[k] is not None}
    # The confirmed changes in event time: between history points, then the current one; since: the last.
    changes = segment_history(db, customer_id, rows[0])
    since = {"segment_since": changes[-1]["changed_at"]} if changes else {}
    return customer_document(rows[0] | since | {"segment_history": changes} | {
        k: churn[k] for k in ("expected_tx_30d", "expected_tx_90d", "expected_value_90d")})


def customer_document(row: Mapping[str, Any]) -> dict[str, Any]:
    """One health row as the documented JSON document (CUSTOMER_KEYS)."""
    return {k: jsonable(row.get(k)) for k in CUSTOMER_KEYS}


def customers_summary(
    db: Statements, settings: Settings, segment: str | None = None, as_of: datetime | None = None,
) -> list[dict[str, Any]]:
    """One summary row (SUMMARY_KEYS) per known customer, worst health first."""
    rows = health_rows(db, settings, segment=segment, as_of=as_of, summary=True)
    return [{k: jsonable(r.get(k)) for k in SUMMARY_KEYS} for r in rows]


def portfolio(db: Statements, points: int = 20, days: int = 30) -> dict[str, Any]:
    """Totals, top-30% profit share, profit destroyed by the unprofitable tail, whale curve, segment mix."""
    summary = _records(db, "health/portfolio_summary", {})[0]
    curve = _records(db, "health/whale_curve", {"points": points})
    mix = _records(db, "health/segment_mix", {"days": days})
    return jsonable({"summary": summary, "whale_curve": curve, "segment_mix": mix})


def dossier_data(
    db: Statements, settings: Settings, customer_id: str, as_of: datetime | None = None, days: int = 365,
) -> dict[str, Any]:
    """What the evidence file shows: the customer's health document, timeline and support months."""
    document = customer_health(db, settings, customer_id, as_of)
    # The report's time: as_of, else now (the maintained metrics carry their own refresh time).
    as_of_dt = as_of or model_now(db)
    since = as_of_dt - timedelta(days=days)
    params = {"customer_id": customer_id, "since": since, "as_of": as_of_dt}
    return {
        "customer": document,
        "since": since,
        "as_of": as_of_dt,
        "timeline": _records(db, "health/dossier_timeline", params),
        "interventions": _records(db, "health/interventions", {"customer_id": customer_id, "as_of": as_of_dt}),
        "support_months": _records(db, "health/dossier_support_months", params),
    }


def by_segment(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(SEGMENTS, 0)
    for r in rows:
        counts[r["segment"]] = counts.get(r["segment"], 0) + 1
    return counts
