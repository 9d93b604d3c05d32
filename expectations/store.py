"""Suite results into DuckDB (quality_runs, quality_results), through ``Statements``: on the pipeline's
connection, or server-side over Quack for `customer-health check` beside a running pipeline.
"""

from __future__ import annotations

from datetime import datetime

from customer_health.sqlfiles import Statements
from expectations.runner import SuiteResult, to_json


def record_suite_result(
    sql: Statements,
    result: SuiteResult,
    *,
    run_at: datetime,
    trigger: str,
    batch_id: int | None = None,
    quarantined: int = 0,
    failures_only: bool = False,
) -> int:
    """Store one run and its expectation results (only the failed ones when ``failures_only``); its run_id."""
    run_id = int(sql.value("quality/record_run", {
        "run_at": run_at, "scope": result.scope, "suite": result.suite, "trigger": trigger, "batch_id": batch_id,
        "rows_validated": result.rows, "expectations": len(result.outcomes), "failed": len(result.failures),
        "critical_failed": len(result.critical_failures), "quarantined": quarantined, "success": result.success,
        "duration_ms": round(result.duration_ms, 3),
    }))
    for outcome in result.outcomes:
        if failures_only and outcome.success:
            continue
        sql.run("quality/record_result", {
            "run_id": run_id, "run_at": run_at, "scope": result.scope, "suite": result.suite,
            "expectation": outcome.expectation, "expectation_type": outcome.expectation_type,
            "column_name": outcome.column, "critical": outcome.critical, "success": outcome.success,
            "element_count": outcome.element_count, "unexpected_count": outcome.unexpected_count,
            "observed_value": to_json(outcome.observed_value),
            "failing_sample": to_json(outcome.failing_sample), "error": outcome.error, "batch_id": batch_id,
        })
    return run_id
