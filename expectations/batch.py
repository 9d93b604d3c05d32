"""Batch suites: validate the valid rows of every landed batch before they land (a ``before_land`` hook).

Rows failing a critical batch expectation are moved, inside the batch transaction, from the
``checked_<type>`` tables to ``quarantine`` with their raw bytes, origin and reasons: they neither land
nor count as dead letters, and nothing is dropped. Every run is recorded in quality_runs; failed
expectations in quality_results (the alert engine reads them).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import duckdb
import pyarrow as pa

from customer_health.config import Settings
from expectations.parameters import suite_parameters
from expectations.registry import EVENT_SUITES
from expectations.runner import SuiteResult, get_runner
from expectations.store import record_suite_result
from ingest.landing import BatchContext
from ingest.plugins import PipelineExtensions, Plugin

log = logging.getLogger(__name__)

_FAILING_ROWS = pa.schema([
    ("ordinal", pa.int64()), ("run_id", pa.int64()), ("expectations", pa.list_(pa.string())), ("reason", pa.string()),
])


class BatchQualityHook:
    """``before_land`` hook: returns how many rows of the batch it quarantined."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._currencies: list[str] | None = None
        self.last_results: list[SuiteResult] = []

    def __call__(self, con: duckdb.DuckDBPyConnection, ctx: BatchContext) -> int:
        if not self.settings.quality.batch_suites:
            return 0
        runner = get_runner(self.settings.quality.failing_sample_rows)
        if self._currencies is None:
            self._currencies = list(ctx.statements.value("quality/currencies"))
        params = suite_parameters(self.settings.quality, self._currencies)
        trigger = "load" if ctx.source.startswith("file:") else "pipeline"

        failing: list[dict[str, Any]] = []
        self.last_results = []
        for event_type in EVENT_SUITES:
            frame = ctx.statements.run(f"quality/batch_frame_{event_type}", {"now": ctx.now}).df()
            if frame.empty:
                continue
            result = runner.validate(event_type, "batch", frame, params, quick_pass=True)
            self.last_results.append(result)
            reasons: dict[int, list[tuple[str, str]]] = {}
            for outcome in result.critical_failures:
                for position in outcome.failing_positions:
                    row = frame.iloc[position]
                    reasons.setdefault(position, []).append((outcome.expectation, outcome.row_reason(row)))
            run_id = record_suite_result(
                ctx.statements, result, run_at=ctx.now, trigger=trigger, batch_id=ctx.batch_id,
                quarantined=len(reasons), failures_only=True,
            )
            for position, found in sorted(reasons.items()):
                failing.append({
                    "ordinal": int(frame["ordinal"].iloc[position]),
                    "run_id": run_id,
                    "expectations": [name for name, _ in found],
                    "reason": "; ".join(reason for _, reason in found),
                })
            if reasons:
                log.warning(
                    "batch %d: %d %s quarantined (%s)", ctx.batch_id, len(reasons), event_type,
                    ", ".join(o.expectation for o in result.critical_failures),
                )
        if not failing:
            return 0
        rows = pa.Table.from_pylist(failing, schema=_FAILING_ROWS)
        # A table created once and refilled, not a registered relation: registering one would change the
        # catalog and make DuckDB plan the pipeline's prepared statements again (sqlfiles.Statements).
        # Emptied again in the batch's transaction: rows committed to a temporary table and deleted by a later
        # transaction would stay in memory for good.
        ctx.statements.run("quality/failing_rows_table")
        con.from_arrow(rows).insert_into("temp.quality_failing_rows")
        try:
            ctx.statements.run("quality/quarantine_rows", {"now": ctx.now, "batch_id": ctx.batch_id})
            ctx.statements.run("quality/drop_quarantined")
        finally:
            with contextlib.suppress(duckdb.Error):  # an aborted transaction: its rollback empties it
                con.execute("delete from temp.quality_failing_rows")
        return len(failing)


def install(con: duckdb.DuckDBPyConnection, settings: Settings) -> PipelineExtensions:
    """The batch suites as the pipeline's (and ``load``'s) ``before_land`` hook."""
    return PipelineExtensions(before_land=[BatchQualityHook(settings)])


_CHECKED = frozenset({"checked_tickets", "checked_payments", "checked_visits", "checked_customers"})

PLUGIN = Plugin(
    name="quality",
    reads=_CHECKED | {"incoming"},  # incoming: the quarantined rows' raw bytes and origin
    # It moves failing rows out of the checked tables: whatever reads a batch's rows after it sees only rows that land.
    writes=_CHECKED | {"quarantine", "quality_runs", "quality_results"},
    install=install,
)
