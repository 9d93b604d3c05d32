"""The composition root: the one place that knows the product's plug-ins and assembles the pipeline.

``ingest`` (the Kafka pipeline) and ``load`` (file backfills) both land batches through
:func:`pipeline_extensions`, so they run the same plug-ins in the same order: the order their declared
reads and writes give (ingest.plugins.order_plugins), not the order of :data:`PLUGINS`.
"""

from __future__ import annotations

import threading

import duckdb

from customer_health.alerts import pipeline as alerts
from customer_health.churn import model as churn
from customer_health.config import Settings
from customer_health.health import refresh as health
from customer_health.health.backfill import finish_backfill
from customer_health.health.refresh import RefreshResult
from expectations import batch as quality
from expectations.runner import get_runner
from ingest.landing import Lander
from ingest.plugins import PipelineExtensions, Plugin, assemble
from ingest.service import build_lander

PLUGINS: tuple[Plugin, ...] = (alerts.PLUGIN, churn.PLUGIN, health.PLUGIN, quality.PLUGIN)


def pipeline_extensions(con: duckdb.DuckDBPyConnection, settings: Settings) -> PipelineExtensions:
    """Every plug-in of the product installed on the owner connection ``con``, hooks in data order."""
    return assemble(PLUGINS, con, settings)


def load_lander(con: duckdb.DuckDBPyConnection, settings: Settings) -> Lander:
    """The lander of ``load``: the pipeline's landing path with the same plug-ins, in bulk (no per-batch
    derived state: :func:`finish_load` derives it once every file has landed)."""
    lander = build_lander(con, settings, pipeline_extensions(con, settings))
    lander.bulk = True
    return lander


def preload_quality(settings: Settings) -> threading.Thread | None:
    """Import Great Expectations on a thread of its own (started; join it before exiting), so that the
    first batch's suites need not wait for it while the first file is read; None when batch suites are off."""
    if not settings.quality.batch_suites:
        return None
    thread = threading.Thread(target=get_runner, args=(settings.quality.failing_sample_rows,), name="load-quality",
                              daemon=True)
    thread.start()
    return thread


def finish_load(con: duckdb.DuckDBPyConnection, settings: Settings) -> RefreshResult:
    """What a bulk load derives once at its end: rollups, churn scores, health and its history."""
    return finish_backfill(con, settings)
