"""The pipeline process: owns the database, serves it over Quack, consumes Kafka and lands batches."""

from __future__ import annotations

import logging
import os
import signal
import threading

import duckdb

from customer_health.config import Settings
from customer_health.db import QuackServer, open_owner, serve
from ingest.broker import ensure_topics
from ingest.consumer import Pipeline, PipelineStats
from ingest.landing import BatchResult, Lander
from ingest.plugins import ExtensionFactory, PipelineExtensions

log = logging.getLogger(__name__)


def build_lander(con: duckdb.DuckDBPyConnection, settings: Settings, ext: PipelineExtensions) -> Lander:
    return Lander(
        con,
        group_id=settings.kafka.group_id,
        max_message_bytes=settings.pipeline.max_message_bytes,
        clock_source=settings.clock.source,
        before_land=list(ext.before_land),
        after_land=list(ext.after_land),
    )


def run_pipeline(
    settings: Settings,
    stop: threading.Event | None = None,
    *,
    extensions: ExtensionFactory,
    install_signal_handlers: bool = True,
) -> PipelineStats:
    """Run until SIGTERM/SIGINT (or ``stop``): the open batch is landed and committed, then exit.

    ``extensions`` installs the plug-ins on the owner connection (customer_health.app assembles the product's).
    """
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
