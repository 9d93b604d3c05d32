"""Alert sources: what the pipeline's database says needs a human, as alert candidates.

- ``segment``: a customer's segment got worse (right in ``alerts.segment_order``, into one of
  ``alerts.alert_segments``; or into an ``alerts.always_alert_segments`` segment from outside the order),
  read incrementally from the health model's ``segment_changes`` and netted per customer, so only the
  state reached counts.
- ``drift``: a customer projected to cross into a bad segment within ``alerts.drift_horizon_days``.
- ``fading``: a customer who used to be valuable went silent: P(alive) fell below
  ``churn.alert_p_alive_below`` (the churn model's ``churn_fading``, see customer_health.alerts.fading).
- ``quality``: a critical expectation failed (batch or table scope), read incrementally.
- ``pipeline``: consumer lag beyond ``alerts.lag_bound_messages``; no Kafka batch for
  ``alerts.staleness_minutes``.
- ``dead_letter``: the dead-letter rate of the last window spiked against the trailing hours.

Catching up is not news: while the pipeline replays a backlog (lag above ``alerts.catch_up_lag_messages``
or old records landing), the customer sources wait without moving their cursors; once caught up, they
report the net change per customer over everything replayed. Changes landed by a file backfill are
never news by themselves.

Every ``now`` here is the wall clock (naive UTC), also when the model's time follows the events
(``[clock] source = "events"``): it is compared only with wall-clock stamps (``ingest_batches.committed_at``,
``consumer_lag.observed_at``, ``dead_letter.dead_lettered_at``, ``alert_state.last_fired_at``).
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta
from typing import Any

import duckdb

from customer_health import sqlfiles
from customer_health.alerts.engine import AlertCandidate, Evaluation
from customer_health.alerts.fading import fading_candidates
from customer_health.config import Settings
from customer_health.jsonsafe import jsonable

log = logging.getLogger("customer_health.alerts")

SEGMENT_CURSOR = "segment_changes"
QUALITY_CURSOR = "quality_results"
# Signals older than this are not trusted for lag (the pipeline records lag every few seconds).
LAG_FRESHNESS = timedelta(minutes=5)


class AlertSources:
    """Evaluates every source on a cursor of the pipeline's database."""

    def __init__(self, settings: Settings, started_at: datetime) -> None:
        self.settings = settings
        self.started_at = started_at
        self._was_catching_up: str | None = None
        self._drift_read_at: datetime | None = None

    def evaluate(self, cur: duckdb.DuckDBPyConnection, now: datetime) -> Evaluation:
        evaluation = Evaluation()
        signals = sqlfiles.Statements(cur).row("alerts/catch_up_signals", {"lag_since": now - LAG_FRESHNESS})
        lag, last_latency_ms, last_kafka_batch_at = signals
        evaluation.catching_up = self.catching_up(lag, last_latency_ms, last_kafka_batch_at, now)
        if evaluation.catching_up != self._was_catching_up:
            if evaluation.catching_up:
                log.info("catching up (%s): customer alerts wait until the pipeline is caught up",
                         evaluation.catching_up)
            else:
                log.info("caught up: customer alerts resume with the state reached")
            self._was_catching_up = evaluation.catching_up
        evaluation.candidates += self.pipeline_health(lag, last_kafka_batch_at, now)
        evaluation.candidates += self.dead_letter_spike(cur, now)
        evaluation.candidates += self.quality_failures(cur, evaluation)
        if not evaluation.catching_up:
            evaluation.candidates += self.segment_changes(cur, evaluation)
            evaluation.candidates += fading_candidates(cur, self.settings, evaluation)
            drift_due = self._drift_read_at is None or (
                now - self._drift_read_at >= timedelta(seconds=self.settings.alerts.drift_interval_s))
            if drift_due:
                self._drift_read_at = now
                evaluation.candidates += self.drift(cur, now)
        return evaluation

    def save_cursors(self, cur: duckdb.DuckDBPyConnection, evaluation: Evaluation, now: datetime) -> None:
        for name, position in evaluation.cursors.items():
            sqlfiles.Statements(cur).run("alerts/set_cursor", {"name": name, "position": position, "now": now})

    # --- catching up -------------------------------------------------------------------------------------

    def catching_up(
        self, lag: int | None, last_latency_ms: float | None, last_kafka_batch_at: datetime | None, now: datetime
    ) -> str | None:
        """Why the pipeline is replaying a backlog, or None when it is caught up."""
        a = self.settings.alerts
        if lag is not None and lag > a.catch_up_lag_messages:
            return f"consumer lag {int(lag):,} messages > {a.catch_up_lag_messages:,}"
        recent = timedelta(seconds=max(30.0, 2 * a.evaluate_interval_s))
        if (
            last_latency_ms is not None
            and last_kafka_batch_at is not None
            and now - last_kafka_batch_at <= recent
            and last_latency_ms > a.catch_up_latency_s * 1000
        ):
            return f"the last batch's newest record was produced {last_latency_ms / 1000:,.0f} s before it landed"
        return None

    # --- pipeline health -----------------------------------------------------------------------------------

    def pipeline_health(
        self, lag: int | None, last_kafka_batch_at: datetime | None, now: datetime
    ) -> list[AlertCandidate]:
        a = self.settings.alerts
        out = []
        if lag is not None and lag > a.lag_bound_messages:
            out.append(AlertCandidate(
                "pipeline", "lag", "warning",
                f"Consumer lag {int(lag):,} messages (bound {a.lag_bound_messages:,})",
                {"lag": int(lag), "bound": a.lag_bound_messages},
            ))
        reference = max(last_kafka_batch_at or self.started_at, self.started_at)
        idle_minutes = (now - reference).total_seconds() / 60
        if idle_minutes > a.staleness_minutes:
            out.append(AlertCandidate(
                "pipeline", "staleness", "critical",
                f"No data landed from Kafka for {idle_minutes:,.0f} min (bound {a.staleness_minutes:g} min)",
                {"last_kafka_batch_at": jsonable(last_kafka_batch_at), "idle_minutes": round(idle_minutes, 1),
                 "bound_minutes": a.staleness_minutes},
            ))
        return out

    def dead_letter_spike(self, cur: duckdb.DuckDBPyConnection, now: datetime) -> list[AlertCandidate]:
        a = self.settings.alerts
        recent_start = now - timedelta(minutes=a.dead_letter_window_minutes)
        trailing_start = recent_start - timedelta(hours=a.dead_letter_trailing_hours)
        recent_messages, recent_dead, trailing_messages, trailing_dead = sqlfiles.Statements(cur).row(
            "alerts/dead_letter_rates", {"recent_start": recent_start, "trailing_start": trailing_start})
        if recent_messages < a.dead_letter_min_messages:
            return []
        rate = recent_dead / recent_messages
        trailing_rate = trailing_dead / trailing_messages if trailing_messages else 0.0
        if rate < a.dead_letter_min_rate or rate < a.dead_letter_spike_factor * trailing_rate:
            return []
        reasons = sqlfiles.Statements(cur).run("alerts/dead_letter_reasons", {"since": recent_start}).fetchall()
        top = ", ".join(f"{t} {code} {n:,}" for t, code, n in reasons[:3])
        return [AlertCandidate(
            "dead_letter", "rate", "warning",
            f"Dead-letter rate {rate:.1%} over the last {a.dead_letter_window_minutes:g} min "
            f"({int(recent_dead):,} of {int(recent_messages):,}; trailing {trailing_rate:.1%}): {top}",
            {"rate": round(rate, 6), "trailing_rate": round(trailing_rate, 6), "messages": int(recent_messages),
             "dead_lettered": int(recent_dead), "window_minutes": a.dead_letter_window_minutes,
             "reasons": [{"event_type": t, "reason_code": c, "messages": int(n)} for t, c, n in reasons]},
        )]

    # --- data quality ----------------------------------------------------------------------------------------

    def quality_failures(self, cur: duckdb.DuckDBPyConnection, evaluation: Evaluation) -> list[AlertCandidate]:
        after = self._cursor(cur, QUALITY_CURSOR, default=0)
        rows = sqlfiles.Statements(cur).run("alerts/quality_failures", {"after": after}).fetchall()
        if not rows:
            return []
        grouped: dict[tuple[str, str, str], list[tuple[Any, ...]]] = {}
        for row in rows:
            _rid, _run, _at, scope, suite, expectation, *_ = row
            grouped.setdefault((scope, suite, expectation), []).append(row)
        out = []
        for (scope, suite, expectation), found in grouped.items():
            unexpected = sum(int(r[6] or 0) for r in found)
            last = found[-1]
            if scope == "batch":
                title = (f"Critical expectation failed on landed {suite}: {expectation}; {unexpected:,} rows "
                         f"quarantined in {len(found)} batch(es), last batch {last[8]}")
            else:
                observed = f"{unexpected:,} of {int(last[7] or 0):,} rows" if last[6] is not None else last[10]
                title = f"Critical expectation failed on table {suite}: {expectation} ({last[9] or observed})"
            out.append(AlertCandidate(
                "quality", f"{scope}:{suite}.{expectation}", "critical", title,
                {"scope": scope, "suite": suite, "expectation": expectation, "failures": len(found),
                 "unexpected_rows": unexpected, "last_run_id": last[1], "last_run_at": jsonable(last[2]),
                 "last_batch_id": last[8], "error": last[9]},
                group=f"{suite}.{expectation}",
            ))
        evaluation.cursors[QUALITY_CURSOR] = int(rows[-1][0])
        return out

    # --- customers (health model) -----------------------------------------------------------------------------

    def segment_changes(self, cur: duckdb.DuckDBPyConnection, evaluation: Evaluation) -> list[AlertCandidate]:
        after = self._cursor(cur, SEGMENT_CURSOR, default=-1)
        upto = int(sqlfiles.Statements(cur).row("alerts/max_segment_change")[0])
        if upto < after:
            log.warning("segment_changes was rebuilt (change_seq %d < cursor %d): reading on from its end", upto, after)
            evaluation.cursors[SEGMENT_CURSOR] = upto
            return []
        if upto == after:
            return []
        rows = sqlfiles.Statements(cur).run("alerts/segment_net_changes", {"after": after, "upto": upto}).fetchall()
        evaluation.cursors[SEGMENT_CURSOR] = upto
        out = []
        for customer_id, name, before, after_segment, score, drifting, days, changed_at, changes in rows:
            if not self.worsened(before, after_segment):
                continue
            who = f"{name} ({customer_id})" if name else customer_id
            out.append(AlertCandidate(
                "segment", customer_id, "critical" if after_segment == "terrorist" else "warning",
                f"{who}: {before or 'new'} -> {after_segment} (health score {_num(score)})",
                {"customer_id": customer_id, "name": name, "from_segment": before, "to_segment": after_segment,
                 "health_score": _clean(score), "drifting_toward": drifting, "days_to_threshold": _clean(days),
                 "changed_at": jsonable(changed_at), "changes_netted": int(changes)},
                group=f"{before or 'new'} -> {after_segment}",
            ))
        return out

    def worsened(self, before: str | None, after: str | None) -> bool:
        """True when moving from ``before`` to ``after`` is a change for the worse that needs a human."""
        a = self.settings.alerts
        if after not in a.segment_order or before == after:
            return False
        if before in a.segment_order:
            return after in a.alert_segments and a.segment_order.index(after) > a.segment_order.index(before)
        return after in a.always_alert_segments

    def drift(self, cur: duckdb.DuckDBPyConnection, now: datetime) -> list[AlertCandidate]:
        a = self.settings.alerts
        cooldown = a.cooldown_minutes_by_source.get("drift", a.cooldown_minutes)
        rows = sqlfiles.Statements(cur).run("alerts/drifting_customers", {
            "horizon_days": a.drift_horizon_days, "cooldown_start": now - timedelta(minutes=cooldown), "now": now,
        }).fetchall()
        out = []
        for customer_id, name, segment, toward, days, score, change_7d, change_30d in rows:
            who = f"{name} ({customer_id})" if name else customer_id
            out.append(AlertCandidate(
                "drift", customer_id, "warning",
                f"{who}: {segment} drifting toward {toward}, ~{_num(days)} days to the threshold "
                f"(health score {_num(score)}, {_signed(change_30d)} in 30 days)",
                {"customer_id": customer_id, "name": name, "segment": segment, "drifting_toward": toward,
                 "days_to_threshold": _clean(days), "health_score": _clean(score),
                 "score_change_7d": _clean(change_7d), "score_change_30d": _clean(change_30d)},
                group=f"toward {toward}",
            ))
        return out

    def _cursor(self, cur: duckdb.DuckDBPyConnection, name: str, default: int) -> int:
        row = sqlfiles.Statements(cur).run("alerts/get_cursor", {"name": name}).fetchone()
        return int(row[0]) if row else default


def _clean(value: Any) -> Any:
    """JSON-safe numbers (NaN and infinities as null, Decimals as floats)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return number if math.isfinite(number) else None


def _num(value: Any) -> str:
    number = _clean(value)
    return "?" if number is None else f"{number:,.0f}"


def _signed(value: Any) -> str:
    number = _clean(value)
    return "?" if number is None else f"{number:+,.0f}"
