"""The [health] settings as the one ``$params`` JSON document every health statement takes."""

from __future__ import annotations

import json

from customer_health.config import HealthSettings

COMPONENTS: tuple[str, ...] = (
    "engagement", "payment_behaviour", "support_burden", "complaint_behaviour", "profitability",
)

# When the history is derived, not what it holds: left out, so changing them derives nothing again.
_SCHEDULING = frozenset({"history_days", "history_rebuild_interval_seconds", "history_defer_lag_messages"})


def health_params(health: HealthSettings) -> str:
    """The JSON read by the SQL macro ``health_params`` (sql/10_reference/health_params.sql)."""
    flat: dict[str, object] = {
        k: v for k, v in health.model_dump().items()
        if k not in {"weights", "complaint_weights", "segments", "playbook", "fx_rates", "win_back_days"}
        and k not in _SCHEDULING
    }
    flat |= {f"w_{k}": v for k, v in health.weights.model_dump().items()}
    flat |= {f"cw_{k}": v for k, v in health.complaint_weights.model_dump().items()}
    flat |= health.segments.model_dump() | health.playbook.model_dump()
    flat["fx_currencies"] = list(health.fx_rates)
    flat["fx_rates"] = [float(v) for v in health.fx_rates.values()]
    flat["win_back_days"] = list(health.win_back_days)
    return json.dumps(flat, sort_keys=True)
