"""Keep the health model up to date: per batch in the pipeline, or all at once.

Per landed batch (an ``after_land`` hook, inside the batch's transaction):

1. the batch's events are added to the ``customer_day`` rollup, and its charges and escalations to
   ``invoice_state`` and ``ticket_escalations`` (read from the batch's own row groups);
2. the customers the batch touched are refreshed incrementally: stored window sums plus the batch's
   deltas, re-derived with the latest portfolio norms. Nothing here reads the stored history, so the
   cost grows with the batch and the customers it touched, not with the events stored;
3. instead, everyone is recomputed from the rollup (a full refresh) when the UTC day rolled over (the
   windows move), when the [health] settings changed since the last one, when the portfolio norms are
   older than ``health.norms_max_age_minutes``, or when a
   check (every ``health.norms_check_seconds``) finds them drifted by more than ``health.norms_max_drift``
   from the norms in use (the check reads health_state: constant in the events stored).

Snapshots go to ``health_snapshots``: everyone at the first full refresh of a UTC day, and any
customer whose segment changed at any refresh. Drift and score changes are measured from snapshots 7, 14
and 30 days old; for customers whose history landed after the fact (a first load, the demo) a full refresh
reconstructs those from the rollup, so they drift at once instead of after a day.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import duckdb

from customer_health.config import HealthSettings, Settings
from customer_health.health.params import health_params
from customer_health.sqlfiles import Statements
from ingest.landing import BatchContext
from ingest.plugins import PipelineExtensions, Plugin

log = logging.getLogger(__name__)

RefreshKind = Literal["incremental", "full"]
# This connection's temporary tables a refresh passes its rows through (health/batch_tables): created once,
# emptied at the end of each refresh, never dropped, so that no refresh changes the catalog (a catalog change
# has DuckDB plan every prepared statement again on each run until it is prepared anew).
_BATCH_TABLES = ("health_batch_context", "health_batch_facts", "health_changed_escalations", "health_changed_invoices",
                 "health_refreshed")
# Besides health.drift_lookback_days, the ages (days) of the snapshots a full refresh reconstructs for history
# landed after the fact: the ones score_change_7d and score_change_30d are measured from.
_RECONSTRUCTED_DAYS = (7.0, 30.0)
# Full refreshes that reconstruct them whatever landed since the last one (the daily one does too: its
# compaction leaves the rollup rows without their batch); others only after history landed.
_RECONSTRUCT_ALWAYS = ("first", "manual", "settings_changed", "backfill")
# A median margin moving by less than this share of 10 currency units is no drift.
_MARGIN_SCALE = 10.0


@dataclass(frozen=True)
class RefreshResult:
    kind: RefreshKind
    reason: str
    customers: int
    segment_changes: int
    duration_ms: float


@dataclass
class HealthRefresher:
    """Runs the health statements on a connection that owns the database (in its open transaction)."""

    health: HealthSettings
    params: str = field(init=False)
    _norms_checked_at: datetime | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.params = health_params(self.health)

    def after_land(self, con: duckdb.DuckDBPyConnection, ctx: BatchContext) -> None:
        """The pipeline hook: fold batch ``ctx.batch_id`` into the model at the batch's time, running the per-batch
        statements prepared (``ctx.statements``)."""
        self.refresh_batch(con, ctx.batch_id, ctx.now, ctx.statements)

    def refresh_batch(
        self, con: duckdb.DuckDBPyConnection, batch_id: int, now: datetime, statements: Statements | None = None,
    ) -> RefreshResult:
        """Add batch ``batch_id`` (already landed in this transaction) and refresh health as of ``now`` (UTC).

        ``statements``: the connection's runner (the pipeline's keeps its prepared per-batch statements from
        batch to batch; default: a new one). A full refresh, when due, runs statements that are planned.
        """
        started = time.perf_counter()
        run = self._runner(con, statements)
        return self._refresh_batch(con, run, batch_id, now, started)

    def _refresh_batch(
        self, con: duckdb.DuckDBPyConnection, run: Statements, batch_id: int, now: datetime, started: float,
    ) -> RefreshResult:
        try:
            self._begin(con, run, now)
            self._run(run, "health/batch_facts", batch_id=batch_id)
            self._fill(con, run, "health_changed_escalations", "health/upsert_escalations", batch_id=batch_id)
            self._run(run, "health/rollup_batch", batch_id=batch_id)
            invoices_changed = self._fill(con, run, "health_changed_invoices", "health/upsert_invoices",
                                          batch_id=batch_id)
            reason = self._full_refresh_reason(con, run, now)
            if reason is not None:
                kind: RefreshKind = "full"
                self._compute_all(con, run, now, reason)
            else:
                kind, reason = "incremental", "batch"
                if invoices_changed:
                    self._run(run, "health/drop_changed_open_invoices")
                    self._run(run, "health/apply_changed_invoices")
                self._run(run, "health/compute_touched", batch_id=batch_id)
            return self._write(con, run, kind, reason, now, batch_id, started)
        finally:
            self._empty(con)

    def full_refresh(
        self, con: duckdb.DuckDBPyConnection, now: datetime, reason: str = "manual",
        statements: Statements | None = None,
    ) -> RefreshResult:
        """Recompute every customer as of ``now`` from the rollups (in the caller's transaction)."""
        started = time.perf_counter()
        run = self._runner(con, statements)
        try:
            self._begin(con, run, now)
            self._compute_all(con, run, now, reason)
            return self._write(con, run, "full", reason, now, None, started)
        finally:
            self._empty(con)

    def rebuild_rollups(self, con: duckdb.DuckDBPyConnection) -> None:
        """Rebuild customer_day, invoice_state and ticket_escalations from every landed event."""
        for name in ("health/rebuild_escalations", "health/rebuild_invoices", "health/rebuild_customer_day"):
            self._run(Statements(con), name)

    def full_refresh_reason(self, con: duckdb.DuckDBPyConnection, now: datetime) -> str | None:
        """Why the refresh at ``now`` must be a full one, or None when an incremental one will do."""
        return self._full_refresh_reason(con, Statements(con), now)

    def _full_refresh_reason(self, con: duckdb.DuckDBPyConnection, run: Statements, now: datetime) -> str | None:
        window_day, computed_at, params, *in_use = self._run(run, "health/refresh_status").fetchone()
        if window_day is None:
            return "first"
        if window_day < now.date():
            return "day_rollover"
        if params != self.params:
            return "settings_changed"
        if now - computed_at > timedelta(minutes=self.health.norms_max_age_minutes):
            return "norms_age"
        # Checked every norms_check_seconds since the norms were computed or last checked (planned: it is rare
        # and compares $now in a filter, which would have a prepared statement planned again anyway).
        checked = max(self._norms_checked_at or computed_at, computed_at)
        if (now - checked).total_seconds() >= self.health.norms_check_seconds:
            self._norms_checked_at = now
            current = self._run(run, "health/current_norms", now=now).fetchone()
            scales = (1.0, self.health.support_reference_floor_minutes, self.health.complaint_reference_floor,
                      _MARGIN_SCALE)
            if any(_drift(old, new, scale) > self.health.norms_max_drift
                   for old, new, scale in zip(in_use, current, scales, strict=True)):
                return "norms_drift"
        return None

    def _compute_all(self, con: duckdb.DuckDBPyConnection, run: Statements, now: datetime, reason: str) -> None:
        """Every customer into health_refreshed (its statements are planned: a full refresh is rare)."""
        window_day = self._run(run, "health/refresh_status").fetchone()[0]
        daily = window_day is None or window_day < now.date()
        if daily:
            self._run(run, "health/compact_customer_day")
        if self.health.reconstruct_snapshots and (
            daily or reason in _RECONSTRUCT_ALWAYS or self._history_landed(run, now)
        ):
            self.reconstruct_snapshots(con, now)
        self._run(run, "health/rebuild_open_invoices", now=now)
        self._run(run, "health/compute_all", now=now, daily=daily)
        if daily:
            for name in ("health/prune_snapshots", "health/prune_norms", "health/prune_refreshes"):
                self._run(run, name, now=now)

    def _reconstructed_ages(self) -> list[float]:
        """How old (days) the reconstructed snapshots are, oldest first."""
        return sorted({*_RECONSTRUCTED_DAYS, self.health.drift_lookback_days}, reverse=True)

    def _history_landed(self, run: Statements, now: datetime) -> bool:
        """Whether events older than the latest reconstructed instant landed since the last full refresh (each
        full refresh reconstructs or has found none landed since the one before, so that one is enough)."""
        latest = now - timedelta(days=self._reconstructed_ages()[-1])
        return bool(self._run(run, "health/history_landed_since_full_refresh", before=latest.date()).fetchone()[0])

    def reconstruct_snapshots(self, con: duckdb.DuckDBPyConnection, now: datetime) -> int:
        """Snapshots at the instants drift and score changes are measured from, for customers whose history
        landed after the fact (health.reconstruct_snapshots), in the caller's transaction; derived again at each
        call, as more of a backlog may have landed. How many it made."""
        run = Statements(con)
        self._run(run, "health/drop_reconstructed_snapshots")
        made = 0
        for days in self._reconstructed_ages():
            at = now - timedelta(days=days)
            if self._run(run, "health/reconstruction_needed", at=at).fetchone()[0]:
                made += self._run(run, "health/reconstruct_snapshots", at=at).fetchone()[0]
        if made:
            log.info("health: %d snapshots reconstructed for history landed after the fact", made)
        return made

    def _write(
        self, con: duckdb.DuckDBPyConnection, run: Statements, kind: RefreshKind, reason: str, now: datetime,
        batch_id: int | None, started: float,
    ) -> RefreshResult:
        customers, changes, snapshots = self._run(run, "health/refreshed_counts").fetchone()
        if snapshots:
            self._run(run, "health/write_snapshots")
        if changes:
            self._run(run, "health/write_segment_changes", batch_id=batch_id)
        self._run(run, "health/delete_state")
        self._run(run, "health/write_state")
        if kind == "full":
            self._run(run, "health/record_norms", now=now)
        duration_ms = (time.perf_counter() - started) * 1000
        self._run(run, "health/record_refresh", kind=kind, reason=reason, now=now, batch_id=batch_id,
                  duration_ms=duration_ms)
        if kind == "full":
            log.info("health: full refresh (%s) of %d customers, %d segment changes in %.0f ms",
                     reason, customers, changes, duration_ms)
        return RefreshResult(kind, reason, int(customers), int(changes), duration_ms)

    @staticmethod
    def _runner(con: duckdb.DuckDBPyConnection, statements: Statements | None) -> Statements:
        if statements is None:
            return Statements(con)
        if statements.con is not con:
            raise ValueError("statements run on another connection than the refresh")
        return statements

    def _begin(self, con: duckdb.DuckDBPyConnection, run: Statements, now: datetime) -> None:
        """The refresh's context into health_batch_context, creating this connection's batch tables first if
        they are missing: not created yet, or gone with the rollback of the transaction that created them (a
        missing table is a catalog error, which leaves the transaction usable)."""
        try:
            self._run(run, "health/batch_context", now=now)
        except duckdb.CatalogException:
            run.run("health/batch_tables")
            self._run(run, "health/batch_context", now=now)

    def _run(self, run: Statements, name: str, **params: Any) -> duckdb.DuckDBPyConnection:
        return run.run(name, {"params": self.params, **params})

    def _fill(self, con: duckdb.DuckDBPyConnection, run: Statements, table: str, name: str, **params: Any) -> int:
        """Run an upsert that RETURNs the rows it changed and put them in batch table ``table`` for the next
        statements (inserting rows changes no catalog, unlike registering them); how many rows it changed."""
        changed = self._run(run, name, **params).fetch_arrow_table()
        if changed.num_rows:
            con.from_arrow(changed).insert_into(f"temp.{table}")
        return changed.num_rows

    @staticmethod
    def _empty(con: duckdb.DuckDBPyConnection) -> None:
        """Empty the batch tables. Within the refresh's transaction, so their rows are never committed: rows
        committed to a temporary table and deleted by a later transaction would stay in memory for good,
        and every scan of the table would read them again."""
        for table in _BATCH_TABLES:
            try:
                con.execute(f"delete from temp.{table}")
            except duckdb.Error:  # an aborted transaction: its rollback empties them
                pass


def _drift(old: float | None, new: float | None, scale: float) -> float:
    """Relative change of a norm, against the larger magnitude but at least ``scale`` (its floor)."""
    old, new = float(old or 0.0), float(new or 0.0)
    return abs(new - old) / max(abs(old), abs(new), scale, 1e-9)


def install(con: duckdb.DuckDBPyConnection, settings: Settings) -> PipelineExtensions:
    """The health refresh as an ``after_land`` hook of the pipeline (and of ``load``)."""
    return PipelineExtensions(after_land=[HealthRefresher(settings.health).after_land])


PLUGIN = Plugin(
    name="health",
    # customer_churn: the batch's p_alive, scored by the churn plug-in in the same transaction.
    reads=frozenset({"tickets", "payments", "visits", "customers", "customer_events", "customer_churn"}),
    writes=frozenset({"customer_day", "invoice_state", "ticket_escalations", "health_norms", "health_state",
                      "health_snapshots", "health_refreshes", "segment_changes"}),
    install=install,
)
