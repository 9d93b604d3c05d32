"""The "silently fading" alert source: customers who used to be valuable and whose P(alive) fell below
``churn.alert_p_alive_below`` (recorded in ``churn_fading`` by the scoring, see model.score_customers).

Read incrementally by rowid (churn_fading is append-only; the health model's segment changes are read by
change_seq), by the alert engine's sources
(customer_health.alerts.sources): one candidate per customer and evaluation, source ``fading``, subject the
customer id, so the engine's dedup, cooldown and circuit breaker apply as to every other source.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import duckdb

from customer_health import sqlfiles
from customer_health.alerts.engine import AlertCandidate, Evaluation
from customer_health.config import Settings
from customer_health.jsonsafe import jsonable

log = logging.getLogger("customer_health.alerts")

SOURCE = "fading"
CURSOR = "churn_fading"


def fading_candidates(
    cur: duckdb.DuckDBPyConnection, settings: Settings, evaluation: Evaluation
) -> list[AlertCandidate]:
    """Alert candidates for the fading records since the cursor; moves the cursor in ``evaluation``."""
    row = sqlfiles.Statements(cur).run("alerts/get_cursor", {"name": CURSOR}).fetchone()
    after = int(row[0]) if row else -1
    upto = int(sqlfiles.Statements(cur).row("churn/max_fading")[0])
    if upto < after:
        log.warning("churn_fading was rebuilt (rowid %d < cursor %d): reading on from its end", upto, after)
        evaluation.cursors[CURSOR] = upto
        return []
    if upto == after:
        return []
    evaluation.cursors[CURSOR] = upto
    currency = settings.health.currency
    out = []
    for (customer_id, name, detected_at, previous, p_alive, threshold, transactions, lifetime_value, expected_value,
         fit_id) in sqlfiles.Statements(cur).run("churn/fading_after", {"after": after, "upto": upto}).fetchall():
        who = f"{name} ({customer_id})" if name else customer_id
        out.append(AlertCandidate(
            SOURCE, customer_id, "warning",
            f"{who}: silently fading, P(alive) {previous:.2f} -> {p_alive:.2f} (below {threshold:g}); "
            f"{transactions} purchases worth {lifetime_value:,.2f} {currency} so far",
            {"customer_id": customer_id, "name": name, "p_alive": _clean(p_alive), "previous_p_alive": _clean(previous),
             "threshold": threshold, "transactions": int(transactions), "lifetime_value": _clean(lifetime_value),
             "expected_value_90d": _clean(expected_value), "currency": currency, "fit_id": int(fit_id),
             "detected_at": jsonable(detected_at)},
            group="silently fading",
        ))
    return out


def _clean(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return round(number, 6) if math.isfinite(number) else None
