"""Table suites: validate the stored tables (on the pipeline's schedule and on `customer-health check`).

Each suite's frame comes from ``sql/statements/quality/table_frame_<suite>.sql`` through ``Statements``, so
the same code runs on the pipeline's connection or over Quack beside a running pipeline.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from customer_health.config import EVENT_TYPES, Settings
from customer_health.errors import UserError
from customer_health.jsonsafe import jsonable
from customer_health.sqlfiles import Statements
from expectations.parameters import suite_parameters
from expectations.registry import SUITES
from expectations.runner import SuiteResult, get_runner
from expectations.store import record_suite_result


@dataclass(frozen=True)
class TableCheck:
    """All table suites validated at one instant."""

    run_at: datetime
    results: list[SuiteResult]

    @property
    def success(self) -> bool:
        return all(r.success for r in self.results)


def run_table_suites(
    sql: Statements, settings: Settings, now: datetime, suites: Iterable[str] | None = None
) -> TableCheck:
    """Validate the table suites (all, or ``suites``) on the data as it is at ``now`` (UTC)."""
    quality = settings.quality
    names = list(suites) if suites is not None else list(SUITES)
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        raise UserError(f"unknown suite {unknown[0]!r} (suites: {', '.join(SUITES)})")
    unknown_topics = sorted(set(quality.freshness_max_age_minutes) - set(EVENT_TYPES))
    if unknown_topics:
        raise UserError(
            f"config: 'quality.freshness_max_age_minutes.{unknown_topics[0]}' is not a topic "
            f"(topics: {', '.join(EVENT_TYPES)})"
        )
    runner = get_runner(quality.failing_sample_rows)
    currencies = list(sql.df("quality/currencies").iloc[0, 0])
    params = suite_parameters(quality, currencies)
    frame_params = {
        "now": now,
        "window_start": now - timedelta(hours=quality.table_window_hours),
        "grace_start": now - timedelta(minutes=quality.customer_grace_minutes),
        "max_rows": quality.table_max_rows,
        "window_minutes": quality.volume_window_minutes,
        "trailing_windows": quality.volume_trailing_windows,
        "band": quality.volume_band,
        "min_average": quality.volume_min_average,
    }
    results = []
    for name in names:
        frame = sql.df(f"quality/table_frame_{name}", frame_params)
        if name == "topics":
            # Topics without a configured bound are not judged on freshness.
            frame["max_age_minutes"] = [
                float(quality.freshness_max_age_minutes.get(t, math.inf)) for t in frame["topic"]
            ]
        results.append(runner.validate(name, "table", frame, params))
    return TableCheck(now, results)


def record_table_check(sql: Statements, check: TableCheck, trigger: str) -> list[int]:
    """Store every suite run of ``check`` with all its expectation results; the run ids."""
    return [record_suite_result(sql, r, run_at=check.run_at, trigger=trigger) for r in check.results]


def check_document(check: TableCheck, run_ids: list[int] | None = None) -> dict[str, Any]:
    """The JSON document of `customer-health check --json`."""
    suites = []
    for i, result in enumerate(check.results):
        suites.append({
            "suite": result.suite,
            "run_id": run_ids[i] if run_ids else None,
            "success": result.success,
            "rows": result.rows,
            "critical_failures": len(result.critical_failures),
            "warnings": len([o for o in result.failures if not o.critical]),
            "expectations": [
                {
                    "expectation": o.expectation, "description": o.description, "critical": o.critical,
                    "success": o.success, "element_count": o.element_count,
                    "unexpected_count": o.unexpected_count, "observed_value": o.observed_value,
                    "failing_sample": o.failing_sample, "error": o.error,
                }
                for o in result.outcomes
            ],
        })
    return {
        "run_at": jsonable(check.run_at),
        "success": check.success,
        "critical_failures": sum(len(r.critical_failures) for r in check.results),
        "suites": suites,
    }
