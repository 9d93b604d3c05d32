"""Keep the health model up to date: per batch in the pipeline, or all at once.

Per landed batch (an ``after_land`` hook, inside the batch's transaction):

1. the batch's events are added to the ``customer_day`` rollup, and its charges and escalations to
   ``invoice_state`` and ``ticket_escalations`` (read from the batch's own row groups);
2. the customers the batch touched are refreshed incrementally: stored window sums plus the batch's
   deltas, re-derived with the latest portfolio norms. Nothing here reads the stored history, so the
   cost grows with the batch and the customers it touched, not with the events stored;
3. instead, everyone is recomputed from the rollup (a full refresh) when the UTC day rolled over (the
   windows move) or when the [health] settings changed since the last one. The norms of a day are those of
   its history point; only while that point waits (a backlog defers it) are they the portfolio's at the last
   full refresh, and then also recomputed when older than ``health.norms_max_age_minutes`` or when a check
   (every ``health.norms_check_seconds``) finds them drifted by more than ``health.norms_max_drift`` (the
   check reads health_state: constant in the events stored). The age and the check interval are wall-clock
   time: they bound what the refreshes cost, whatever the model's clock (``[clock] source = "events"`` at a
   day per wall minute would otherwise refresh everyone every 2.5 s); what the model's time changes for
   customers no batch touches is caught at each model day's rollover.

The history (:mod:`.history`) is a grid of point-in-time evaluations at 00:00 UTC of each day. When the
model's time passes a day, the next point is derived before the full refresh (while the consumer lags by
more than ``health.history_defer_lag_messages``, a backlog, only once it has caught up). A batch with events
dated before the last point marks the history dirty from their day; it is derived again from there at most
once every ``health.history_rebuild_interval_seconds``, then everyone is refreshed. The backlog is the end
offsets the consumer last saw less the offsets landed (this batch's included), so the batch that lands a
backlog's rest derives its points; what batches put off (a rebuild the interval held back, the points of a
backlog whose last batch still saw it lag, a model day rolled over with nothing landing) the pipeline's idle
hook does once nothing arrived for ``pipeline.idle_seconds`` (``when_idle``). The current state is
chained from the last point before it (its baseline, references and norms: those of the point of its day),
so it depends on the events and the model's time only, not on how they were split into batches.

So does its confirmed segment: the hysteresis of the segment rules steps at each distinct event time of the
customer after the day's point (each step evaluated as of that time), starting from the point's segment,
then once more at the refresh's time (health_path_of). health_state keeps the day's path (step time,
segment); an in-order batch evaluates its own events' times only, and a batch with an event at or before a
customer's last step (late) re-derives that customer's path from that event on, from its facts of the day
(health/late_customers and health/late_facts, run only when some customer is late). The path's changes go to
``segment_changes`` (the alerts' feed) at their event time, and the final step's change at the refresh's
time; each refresh replaces the customer's stored changes after the part of the path it kept (rows it
derives again unchanged are kept as they are, so the alerts, which read the table by change_seq, see no
repeat; a final step's change found again keeps its first time).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

import duckdb

from customer_health.clock import utc_now
from customer_health.config import HealthSettings, Settings
from customer_health.health.history import extend_points, point_of, rebuild_points
from customer_health.health.params import health_params
from customer_health.sqlfiles import Statements
from ingest.lake import LakeLog
from ingest.landing import BatchContext, IdleContext
from ingest.plugins import PipelineExtensions, Plugin

log = logging.getLogger(__name__)

RefreshKind = Literal["incremental", "full"]
# This connection's temporary tables a refresh passes its rows through (health/batch_tables): created once,
# emptied at the end of each refresh, never dropped, so that no refresh changes the catalog (a catalog change
# has DuckDB plan every prepared statement again on each run until it is prepared anew).
_BATCH_TABLES = ("health_batch_context", "health_batch_facts", "health_touched", "health_changed_escalations",
                 "health_changed_invoices", "health_refreshed", "health_point_context", "health_late",
                 "health_late_facts")
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
    # The wall clock (naive UTC) the norms' age and check interval are counted in.
    wall_clock: Callable[[], datetime] = utc_now
    # store = "ducklake", a pipeline: a batch derives only the touched customers this pipeline owns
    # (pipeline_owned_customers, the leader by partition 0 of customers_topic); the others wait in health_pending.
    owned_only: bool = False
    customers_topic: str = "customers"
    group_id: str = "customer-health"  # the consumer group whose landed offsets measure the backlog
    params: str = field(init=False)
    _norms_checked_at: datetime | None = field(default=None, init=False)  # wall clock
    _point_norms_day: date | None = field(default=None, init=False)  # a model day whose point's norms are stored
    _history_rebuilt_at: float | None = field(default=None, init=False)  # time.monotonic()

    def __post_init__(self) -> None:
        self.params = health_params(self.health)

    def after_land(self, con: duckdb.DuckDBPyConnection, ctx: BatchContext) -> None:
        """The pipeline hook: fold batch ``ctx.batch_id`` into the model at the batch's time, running the per-batch
        statements prepared (``ctx.statements``)."""
        self.refresh_batch(con, ctx.batch_id, ctx.now, ctx.statements)

    def when_idle(self, con: duckdb.DuckDBPyConnection, ctx: IdleContext) -> None:
        """The pipeline's idle hook: do at ``ctx.now`` what batches put off."""
        self.refresh_idle(con, ctx.now, ctx.statements)

    def refresh_idle(
        self, con: duckdb.DuckDBPyConnection, now: datetime, statements: Statements | None = None,
    ) -> RefreshResult | None:
        """What the last batches put off, once nothing lands (in the caller's transaction): the history points a
        backlog deferred, a rebuild the interval debounced, and the full refresh a rolled-over model day or the
        norms call for. None when nothing was due, and before any refresh (the first batch makes the first)."""
        started = time.perf_counter()
        run = self._runner(con, statements)
        if self._row(run, "health/refresh_status")[0] is None:
            return None
        try:
            self._begin(con, run, now)
            reason, live = self._full_refresh_due(con, run, now)
            if reason is None:
                return None
            self._compute_all(con, run, now, reason, live=live)
            return self._write(con, run, "full", reason, now, None, started)
        finally:
            self._empty(con)

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
        if self.owned_only:
            self._finish_pending_day(con, run, now)
        try:
            self._begin(con, run, now)
            self._run(run, "health/batch_facts", batch_id=batch_id)
            self._fill(con, run, "health_changed_escalations", "health/upsert_escalations", batch_id=batch_id)
            self._run(run, "health/rollup_batch", batch_id=batch_id)
            invoices_changed = self._fill(con, run, "health_changed_invoices", "health/upsert_invoices",
                                          batch_id=batch_id)
            self._run(run, "health/history_mark_dirty", batch_id=batch_id).fetchall()
            reason, live = self._full_refresh_due(con, run, now)
            if reason is not None:
                kind: RefreshKind = "full"
                self._compute_all(con, run, now, reason, live=live)
            else:
                kind, reason = "incremental", "batch"
                if invoices_changed:
                    self._run(run, "health/drop_changed_open_invoices")
                    self._run(run, "health/apply_changed_invoices")
                self._run(run, "health/touched", batch_id=batch_id)
                if self.owned_only:
                    self._run(run, "health/pend_unowned")
                if self._compute_pending(run, now) or self.owned_only:
                    self._run(run, "health/touched_incremental")
                if not self.owned_only or self._row(run, "health/touched_to_derive")[0]:
                    if self._run(run, "health/late_customers").fetchall():
                        self._run(run, "health/late_facts")
                    self._run(run, "health/compute_touched")
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
            history_moved = self._history(con, run, now, batch=False)
            self._compute_all(con, run, now, reason, live=history_moved != "history_rebuilt")
            return self._write(con, run, "full", reason, now, None, started)
        finally:
            self._empty(con)

    def refresh_pending(
        self, con: duckdb.DuckDBPyConnection, now: datetime, statements: Statements | None = None,
    ) -> RefreshResult | None:
        """Compute the pending customers this refresher derives (health_pending: all of them unless owned_only)
        from the rollups as of ``now`` (in the caller's transaction); None when none was waiting."""
        started = time.perf_counter()
        run = self._runner(con, statements)
        try:
            self._begin(con, run, now)
            if not self._compute_pending(run, now):
                return None
            return self._write(con, run, "incremental", "pending", now, None, started)
        finally:
            self._empty(con)

    def _finish_pending_day(self, con: duckdb.DuckDBPyConnection, run: Statements, now: datetime) -> None:
        """Before the first refresh of a new UTC day (at ``now``), derive every pending customer as of the previous
        day's last refresh, from the rollups (this batch's rollups not yet added; its events of that day up to
        then, landed, do count): their path through that day, at its event times, is what the pipeline that owned
        them derived batch by batch."""
        window_day = self._row(run, "health/refresh_status")[0]
        if window_day is None or window_day >= now.date():
            return
        (day_end,) = self._row(run, "health/pending_day_end")
        if day_end is None or day_end >= now:
            return
        started = time.perf_counter()
        try:
            self._begin(con, run, day_end, owned_only=False)
            if self._compute_pending(run, day_end):
                self._write(con, run, "incremental", "pending_day_end", day_end, None, started)
        finally:
            self._empty(con)

    def _compute_pending(self, run: Statements, now: datetime) -> int:
        """The pending customers derived here into health_refreshed, from the rollups; how many."""
        customers = list(self._row(run, "health/pending_derived")[0])
        if customers:
            self._run(run, "health/compute_pending", now=now, customers=customers)
        return len(customers)

    def rebuild_rollups(self, con: duckdb.DuckDBPyConnection) -> None:
        """Rebuild customer_day, invoice_state and ticket_escalations from every landed event."""
        for name in ("health/rebuild_escalations", "health/rebuild_invoices", "health/rebuild_customer_day"):
            self._run(Statements(con), name)

    def full_refresh_reason(self, con: duckdb.DuckDBPyConnection, now: datetime) -> str | None:
        """Why the refresh at ``now`` must be a full one, or None when an incremental one will do."""
        return self._full_refresh_reason(con, Statements(con), now)

    def _full_refresh_reason(self, con: duckdb.DuckDBPyConnection, run: Statements, now: datetime) -> str | None:
        window_day, recorded_at, params, *in_use = self._row(run, "health/refresh_status")
        if window_day is None:
            return "first"
        if window_day < now.date():
            return "day_rollover"
        if params != self.params:
            return "settings_changed"
        wall = self.wall_clock()
        aged = wall - recorded_at > timedelta(minutes=self.health.norms_max_age_minutes)
        # Checked every norms_check_seconds since the norms were computed or last checked (planned: it is rare
        # and compares $now in a filter, which would have a prepared statement planned again anyway).
        checked = max(self._norms_checked_at or recorded_at, recorded_at)
        if not aged and (wall - checked).total_seconds() < self.health.norms_check_seconds:
            return None
        self._norms_checked_at = wall
        # With the day's history point stored, the day's norms are that point's: a full refresh would derive
        # with them again, however old they are or far the portfolio moved within the day (the next day's point
        # brings the move). Without it (a backlog defers the point), the norms are the portfolio's at a refresh.
        # Once found stored, it stays so for the day (asked again only on another day).
        if self._point_norms_day != now.date() and self._row(run, "health/day_norms_stored", now=now)[0]:
            self._point_norms_day = now.date()
        if self._point_norms_day == now.date():
            return None
        if aged:
            return "norms_age"
        current = self._row(run, "health/current_norms", now=now)
        scales = (1.0, self.health.support_reference_floor_minutes, self.health.complaint_reference_floor,
                  _MARGIN_SCALE)
        if any(_drift(old, new, scale) > self.health.norms_max_drift
               for old, new, scale in zip(in_use, current, scales, strict=True)):
            return "norms_drift"
        return None

    def _full_refresh_due(
        self, con: duckdb.DuckDBPyConnection, run: Statements, now: datetime,
    ) -> tuple[str | None, bool]:
        """A batch's (or an idle turn's) history step, then why everyone must be refreshed now (None: no one) and
        whether that refresh starts from the stored confirmed segments (not after the history was derived again)."""
        history_moved = self._history(con, run, now, batch=True)
        return self._full_refresh_reason(con, run, now) or history_moved, history_moved != "history_rebuilt"

    def _history(self, con: duckdb.DuckDBPyConnection, run: Statements, now: datetime, batch: bool) -> str | None:
        """Bring the history up to ``now``: derive it again from the earliest dirty day (or wholly, after a
        settings change), then add the points the model's time passed. In a batch (``batch``): not while the
        consumer lags by more than health.history_defer_lag_messages, and a rebuild at most once every
        health.history_rebuild_interval_seconds. Why everyone must be refreshed now (None: no point moved)."""
        last_point, params, dirty_since, lag = self._row(run, "health/history_status", group_id=self.group_id)
        if batch and lag > self.health.history_defer_lag_messages:
            return None
        if last_point is not None and params != self.params:
            dirty_since = date.min
        if dirty_since is not None:
            if batch and self._history_rebuilt_at is not None and (
                    time.monotonic() - self._history_rebuilt_at < self.health.history_rebuild_interval_seconds):
                dirty_since = None
            else:
                self._history_rebuilt_at = time.monotonic()
                rebuild_points(run, self.health, None if dirty_since == date.min else dirty_since, now)
                return "history_rebuilt"
        if last_point is None or point_of(now) > last_point:
            if last_point is None:  # the whole window: a rebuild
                self._history_rebuilt_at = time.monotonic()
            if extend_points(run, self.health, last_point, now).points:
                return "history_point"
        return None

    def _compute_all(
        self, con: duckdb.DuckDBPyConnection, run: Statements, now: datetime, reason: str, live: bool = True,
    ) -> None:
        """Every customer into health_refreshed (its statements are planned: a full refresh is rare). ``live``:
        segments start from the stored confirmed ones (not after the history was derived again)."""
        window_day = self._row(run, "health/refresh_status")[0]
        daily = window_day is None or window_day < now.date()
        if daily:
            self._run(run, "health/compact_customer_day")
        self._run(run, "health/rebuild_open_invoices", now=now)
        self._run(run, "health/compute_all", now=now, live=live)
        if daily:
            for name in ("health/prune_snapshots", "health/prune_norms", "health/prune_refreshes"):
                self._run(run, name, now=now)

    def _write(
        self, con: duckdb.DuckDBPyConnection, run: Statements, kind: RefreshKind, reason: str, now: datetime,
        batch_id: int | None, started: float,
    ) -> RefreshResult:
        customers, changes, _, moved = self._row(run, "health/refreshed_counts")
        if moved:
            self._run(run, "health/write_segment_changes", batch_id=batch_id)
            self._run(run, "health/retract_segment_changes")
        self._run(run, "health/delete_state")
        self._run(run, "health/write_state")
        self._run(run, "health/unpend_refreshed")
        if kind == "full":
            self._run(run, "health/record_norms", now=now, wall=self.wall_clock())
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

    def _begin(self, con: duckdb.DuckDBPyConnection, run: Statements, now: datetime,
               owned_only: bool | None = None) -> None:
        """The refresh's context into health_batch_context (``owned_only``: whether it derives only the customers
        this pipeline owns; default: the refresher's setting), creating this connection's batch tables first if
        they are missing: not created yet, or gone with the rollback of the transaction that created them (a
        missing table is a catalog error, which leaves the transaction usable)."""
        owned = self.owned_only if owned_only is None else owned_only
        try:
            self._run(run, "health/batch_context", now=now, owned_only=owned, customers_topic=self.customers_topic)
        except duckdb.CatalogException:
            run.run("health/batch_tables")
            self._run(run, "health/batch_context", now=now, owned_only=owned, customers_topic=self.customers_topic)

    def _run(self, run: Statements, name: str, **params: Any) -> duckdb.DuckDBPyConnection:
        return run.run(name, {"params": self.params, **params})

    def _row(self, run: Statements, name: str, **params: Any) -> tuple[Any, ...]:
        return run.row(name, {"params": self.params, **params})

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
    """The health refresh as an ``after_land`` hook of the pipeline (and of ``load``). A lake pipeline (its
    ``on_lake``; never a reader's copy, which derives everyone) derives per batch only the customers it owns."""
    refresher = HealthRefresher(settings.health, customers_topic=settings.kafka.topics.customers,
                                group_id=settings.kafka.group_id)

    def derive_owned_only(lake: LakeLog) -> None:
        refresher.owned_only = True
    owned_only = settings.store == "ducklake" and settings.ducklake.derive_owned_only
    return PipelineExtensions(after_land=[refresher.after_land], when_idle=[refresher.when_idle],
                              on_lake=[derive_owned_only] if owned_only else [])


PLUGIN = Plugin(
    name="health",
    # customer_churn: the batch's p_alive, scored by the churn plug-in in the same transaction.
    # pipeline_partitions, customer_partitions: which customers a lake pipeline owns (derives per batch).
    reads=frozenset({"tickets", "payments", "visits", "customers", "customer_events", "customer_churn",
                     "pipeline_partitions", "customer_partitions"}),
    writes=frozenset({"customer_day", "invoice_state", "ticket_escalations", "health_norms", "health_state",
                      "health_snapshots", "health_history_norms", "health_history_dirty", "health_refreshes",
                      "segment_changes", "health_pending"}),
    install=install,
)
