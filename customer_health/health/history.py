"""The health history: a grid of point-in-time evaluations, one per UTC day.

Point k is every customer's health computed from scratch at 00:00 UTC of day k (``health_computed``, the
evaluation ``customer --as-of`` runs), with the portfolio norms of that instant, and chained: its
references (the point before, the points 7, 14 and 30 days back) are the stored points before it. So each
stored point equals its as-of evaluation by construction, and the history is a function of the events
and their event times only. Points cover the ``health.history_days`` days up to the model's now (not
before the earliest landed event). Rows go to ``health_snapshots`` (the ``health_history`` view), the
norms of each point to ``health_history_norms``; segment changes are the changes between consecutive
points (``health_history_changes``).

The history is derived: :func:`rebuild_history` derives every point from a day on again, in the caller's
transaction, in one pass (:func:`derive_grid`: the same rows as point by point, :func:`derive_points`). The
pipeline's refresh (:mod:`.refresh`) adds the new point when the model's time passes a day (point by point)
and re-derives from the day of a late event.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import duckdb

from customer_health.clock import utc_now
from customer_health.config import HealthSettings, Settings
from customer_health.health.params import health_params
from customer_health.sqlfiles import Statements

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HistoryResult:
    points: int           # points derived
    first: datetime | None
    last: datetime | None
    seconds: float


def point_of(moment: datetime) -> datetime:
    """The grid point at or before ``moment`` (naive UTC): 00:00 UTC of its day."""
    return datetime.combine(moment.date(), datetime.min.time())


def grid(now: datetime, days: int, data_since: date | None) -> list[datetime]:
    """The points of the window before ``now``: 00:00 UTC of each of the ``days`` days ending with now's
    day, none before the day of the earliest event (``data_since``; none at all without events)."""
    if data_since is None:
        return []
    last = point_of(now)
    first = max(last - timedelta(days=days - 1), datetime.combine(data_since, datetime.min.time()))
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def window_points(run: Statements, health: HealthSettings, now: datetime) -> list[datetime]:
    """The points of the history window as of ``now`` in the database of ``run`` (:func:`grid`)."""
    return grid(now, health.history_days, run.row("health/data_since")[0])


def _grid_bounds(params: str, points: list[datetime]) -> dict[str, object]:
    """The parameters of the grid statements over ``points`` (consecutive days, ascending, at least one)."""
    return {"params": params, "first_at": points[0], "last_at": points[-1]}


def _ensure_batch_tables(run: Statements) -> None:
    run.run("health/batch_tables")


def derive_points(run: Statements, params: str, points: list[datetime]) -> None:
    """Derive ``points`` (ascending, none of them stored) one after the other: each is chained from the ones
    before it."""
    _ensure_batch_tables(run)
    for at in points:
        for name in ("health/history_point_context", "health/history_point_compute", "health/history_point_rows",
                     "health/history_point_norms", "health/history_point_done", "health/history_point_context_done"):
            run.run(name, {"params": params, "at": at})


def derive_grid(run: Statements, params: str, points: list[datetime], rows_ready: bool = False) -> None:
    """Derive ``points`` (consecutive days, ascending, none of them stored) in one pass: every customer at
    every point set-based, then each point's segment chained from the point before; the same rows as
    :func:`derive_points`. ``rows_ready``: the first pass's rows are there already (:func:`grid_rows_ahead`)."""
    if not points:
        return
    bounds = _grid_bounds(params, points)
    if not rows_ready:
        run.run("health/history_grid_rows", bounds)
    for name in ("health/history_grid_chain", "health/history_grid_norms", "health/history_grid_done"):
        run.run(name, bounds)


def grid_rows_ahead(run: Statements, health: HealthSettings, now: datetime) -> list[datetime]:
    """The first pass of the whole window's grid as of ``now`` (every customer at every point, into a temporary
    table), outside any transaction, for a :func:`rebuild_history` of the whole window to store in its own: on
    committed rollups and into a committed table, DuckDB reads on every thread, where it reads a transaction's
    own writes on one. The points it covers."""
    points = window_points(run, health, now)
    if points:
        run.run("health/history_grid_rows", _grid_bounds(health_params(health), points))
    return points


def rebuild_history(
    con: duckdb.DuckDBPyConnection, settings: Settings, since: date | None = None, *,
    now: datetime | None = None, statements: Statements | None = None, rows_ahead: list[datetime] | None = None,
) -> HistoryResult:
    """Derive every history point from day ``since`` (None: the whole window) to the last one at or before
    ``now`` (the model's time; default now) again, all customers (the norms change with any of them), in
    the caller's transaction. Points from ``since`` on that fall out of the window are not derived again.
    ``rows_ahead``: the points :func:`grid_rows_ahead` derived the first pass of, as of the same ``now``."""
    return rebuild_points(statements or Statements(con), settings.health, since, now or utc_now(), rows_ahead)


def rebuild_points(run: Statements, health: HealthSettings, since: date | None, now: datetime,
                   rows_ahead: list[datetime] | None = None) -> HistoryResult:
    """:func:`rebuild_history` on a statement runner."""
    started = time.perf_counter()
    points = window_points(run, health, now)
    start = datetime.combine(since, datetime.min.time()) if since is not None else None
    if start is not None:
        points = [p for p in points if p >= start]
    if rows_ahead is not None and rows_ahead != points:
        raise ValueError(f"the grid's rows were derived ahead for other points ({len(rows_ahead)}) than these "
                         f"({len(points)})")
    delete_from = start if start is not None else (points[0] if points else point_of(now))
    run.run("health/history_delete_points", {"since": delete_from})
    run.run("health/history_delete_norms", {"since": delete_from})
    derive_grid(run, health_params(health), points, rows_ready=rows_ahead is not None)
    seconds = time.perf_counter() - started
    if points:
        log.info("health: %d history points derived (%s to %s) in %.1f s", len(points),
                 f"{points[0]:%Y-%m-%d}", f"{points[-1]:%Y-%m-%d}", seconds)
    return HistoryResult(len(points), points[0] if points else None, points[-1] if points else None, seconds)


def extend_points(run: Statements, health: HealthSettings, last_point: datetime | None, now: datetime) -> HistoryResult:
    """Add the points after ``last_point`` (the last one stored; None: none yet, the whole window) up to
    ``now``."""
    if last_point is None:
        return rebuild_points(run, health, None, now)
    started = time.perf_counter()
    points = [p for p in window_points(run, health, now) if p > last_point]
    derive_points(run, health_params(health), points)
    return HistoryResult(len(points), points[0] if points else None, points[-1] if points else None,
                         time.perf_counter() - started)


def segment_history(db: Statements, customer_id: str, current: dict[str, Any]) -> list[dict[str, Any]]:
    """The confirmed segment changes of a customer, oldest first: between consecutive history points before
    the current row's ``as_of``, then the current row's change from the last point (at its ``as_of``)."""
    cur = db.run("health/segment_history", {"customer_id": customer_id, "as_of": current["as_of"]})
    changes = [{"changed_at": at, "from_segment": before, "to_segment": after} for at, before, after in cur.fetchall()]
    last = changes[-1]["to_segment"] if changes else None
    if current.get("segment") is not None and current["segment"] != last:
        changes.append({"changed_at": current["as_of"], "from_segment": last, "to_segment": current["segment"]})
    return changes
