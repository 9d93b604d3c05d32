"""The pipeline process: owns the database, serves it over Quack, consumes Kafka and lands batches."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

from customer_health.config import Settings
from customer_health.db import QuackServer, open_owner, serve
from ingest.broker import ensure_topics
from ingest.consumer import Pipeline, PipelineStats
from ingest.landing import BatchHook, BatchResult, Lander

log = logging.getLogger(__name__)


@dataclass
class PipelineExtensions:
    """What other parts of the product plug into the pipeline (health refresh, quality, alerts).

    ``before_land``/``after_land`` run inside each batch transaction; ``on_landed`` after its commit;
    ``on_tick`` on every poll-loop turn (scheduled jobs keep their own clocks); ``on_stop`` once when the
    pipeline stops, before the database is closed (background threads end there).
    """

    before_land: list[BatchHook] = field(default_factory=list)
    after_land: list[BatchHook] = field(default_factory=list)
    on_landed: list[Callable[[BatchResult], None]] = field(default_factory=list)
    on_tick: list[Callable[[], None]] = field(default_factory=list)
    on_stop: list[Callable[[], None]] = field(default_factory=list)


ExtensionFactory = Callable[[duckdb.DuckDBPyConnection, Settings], PipelineExtensions]


def build_lander(con: duckdb.DuckDBPyConnection, settings: Settings, ext: PipelineExtensions) -> Lander:
    return Lander(
        con,
        group_id=settings.kafka.group_id,
        max_message_bytes=settings.pipeline.max_message_bytes,
        before_land=list(ext.before_land),
        after_land=list(ext.after_land),
    )


def default_extensions(con: duckdb.DuckDBPyConnection, settings: Settings) -> PipelineExtensions:
    """The product's plug-ins; empty until health, quality and alerts register here."""
    ext = PipelineExtensions()
    from customer_health.churn.model import install as install_churn

    install_churn(ext, con, settings)  # before health: the health refresh reads the batch's p_alive
    from customer_health.health.refresh import install as install_health

    install_health(ext, con, settings)  # later after_land hooks (alerts) see the refreshed health
    from customer_health.alerts.pipeline import QualityAndAlerts

    quality_and_alerts = QualityAndAlerts(con, settings)
    ext.before_land.insert(0, quality_and_alerts.batch_hook)  # first: later hooks see only rows that land
    ext.on_tick.append(quality_and_alerts.on_tick)
    ext.on_stop.append(quality_and_alerts.stop)
    return ext


def run_pipeline(
    settings: Settings,
    stop: threading.Event | None = None,
    extensions: ExtensionFactory = default_extensions,
    install_signal_handlers: bool = True,
) -> PipelineStats:
    """Run until SIGTERM/SIGINT (or ``stop``): the open batch is landed and committed, then exit."""
    stop = stop or threading.Event()
    if install_signal_handlers:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, frame: stop.set())
    con = open_owner(settings, threads=settings.pipeline.threads(os.cpu_count()))
    server: QuackServer | None = None
    ext: PipelineExtensions | None = None
    try:
        if settings.quack.enabled:
            server = serve(con, settings)
            log.info("serving %s over Quack at %s", settings.db_path, server.uri)
        ensure_topics(settings.kafka)
        ext = extensions(con, settings)
        lander = build_lander(con, settings, ext)

        def on_landed(result: BatchResult) -> None:
            for callback in ext.on_landed:
                callback(result)

        def on_tick() -> None:
            for callback in ext.on_tick:
                callback()

        pipeline = Pipeline(settings, lander, stop, on_landed=on_landed, on_tick=on_tick)
        log.info("consuming %s from %s", ", ".join(pipeline.type_by_topic), settings.kafka.bootstrap_servers)
        stats = pipeline.run()
        log.info(
            "stopped: %d batches, %d messages, %d landed, %d duplicates, %d dead-lettered",
            stats.batches, stats.messages, stats.landed, stats.duplicates, stats.dead_lettered,
        )
        return stats
    finally:
        for callback in ext.on_stop if ext is not None else ():
            try:
                callback()
            except Exception:
                log.exception("a pipeline extension failed to stop")
        if server is not None:
            server.stop()
        con.close()
