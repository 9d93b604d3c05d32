"""The end of a backfill: what ``load`` runs once every file has landed in bulk (ingest.landing.Lander.bulk).

Bulk batches land events, dead letters, duplicates and quarantine but run no per-batch refresh, so a
partly landed backfill records no segment change, snapshot or alert. :func:`finish_backfill` then derives
everything from the events at once, as of one instant.
"""

from __future__ import annotations

import logging
from datetime import datetime

import duckdb

from customer_health.churn import model as churn
from customer_health.clock import model_now
from customer_health.config import Settings
from customer_health.health.history import grid_rows_ahead, rebuild_history
from customer_health.health.refresh import HealthRefresher, RefreshResult
from customer_health.sqlfiles import Statements, transaction

log = logging.getLogger(__name__)

BACKFILL_REASON = "backfill"


def finish_backfill(con: duckdb.DuckDBPyConnection, settings: Settings, now: datetime | None = None) -> RefreshResult:
    """On the owner connection ``con``: rebuild the rollups from every landed event (the bulk batches did not
    fold themselves in) and score every customer's churn with the latest converged fit (if any), in one
    transaction; then derive the history points of the whole window again (a backfill may reach back anywhere
    in it) and refresh every customer's health once as of ``now`` (UTC, default the model's now), in another.
    Segment changes are recorded only against the state before the backfill, never against a partly landed
    one. The rollups commit first, so that the history's first pass reads them on every thread
    (:func:`grid_rows_ahead`): they are a function of the landed events alone. A finish stopped after them
    leaves the health and the history as they were before it, the history marked dirty from its start (the
    pipeline's history rebuild derives it) and the churn scores of the landed events; the next ``load``
    derives everything (``load/underived``)."""
    run = Statements(con)
    now = now or model_now(run)
    refresher = HealthRefresher(settings.health)
    with transaction(con):
        churn.rebuild_transactions(con, settings)
        refresher.rebuild_rollups(con)
        churn.score_customers(con, settings, None, now, now=now)
        run.run("health/history_mark_all_dirty", {"now": now})
    ahead = grid_rows_ahead(run, settings.health, now)
    with transaction(con):
        rebuild_history(con, settings, None, now=now, statements=run, rows_ahead=ahead)
        return refresher.full_refresh(con, now, reason=BACKFILL_REASON)
