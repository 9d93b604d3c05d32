"""The pipeline process: owns the database, serves it over Quack, consumes Kafka and lands batches."""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import threading
import typing
import uuid
from collections.abc import Callable
from typing import Any

import duckdb

from customer_health.config import Settings
from customer_health.db import QuackServer, attach_lake, open_owner, open_working_store, serve
from ingest.broker import ensure_topics
from ingest.checkpoint import Checkpointer, open_from_checkpoint
from ingest.consumer import Pipeline, PipelineStats, group_instance_id
from ingest.lake import LakeLander, LakeLog
from ingest.landing import BatchResult, Lander
from ingest.plugins import ExtensionFactory, PipelineExtensions

log = logging.getLogger(__name__)


def build_lander(
    con: duckdb.DuckDBPyConnection, settings: Settings, ext: PipelineExtensions, kind: type[Lander] = Lander,
    **extra: Any,
) -> Lander:
    return kind(
        con,
        group_id=settings.kafka.group_id,
        max_message_bytes=settings.pipeline.max_message_bytes,
        clock_source=settings.clock.source,
        before_land=list(ext.before_land),
        after_land=list(ext.after_land),
        when_idle=list(ext.when_idle),
        **extra,
    )


def lake_member(settings: Settings) -> str:
    """This pipeline's name in the lake: unique per process, so that a restarted one fences its past self."""
    base = group_instance_id(settings) or re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname())[:60]
    return f"{base}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def attach_lake_log(settings: Settings, member: str) -> LakeLog:
    """The consumer group's log on a connection of its own, the lake attached (nothing created)."""
    lake_con = duckdb.connect()
    lake_con.execute("set timezone = 'UTC'")
    attach_lake(lake_con, settings)
    return LakeLog(lake_con, settings.kafka.group_id, member, settings.ducklake.commit_retries)


def open_lake_log(settings: Settings, member: str) -> LakeLog:
    """The log a pipeline writes: attached, its tables created when missing."""
    lake = attach_lake_log(settings, member)
    lake.ensure_log()
    return lake


def run_pipeline(
    settings: Settings,
    stop: threading.Event | None = None,
    *,
    extensions: ExtensionFactory,
    finish_history: Callable[[duckdb.DuckDBPyConnection, Settings], object] | None = None,
    settle_checkpoint: Callable[[duckdb.DuckDBPyConnection, Settings], object] | None = None,
    install_signal_handlers: bool = True,
) -> PipelineStats:
    """Run until SIGTERM/SIGINT (or ``stop``): the open batch is landed and committed, then exit.

    ``extensions`` installs the plug-ins on the owner connection (customer_health.app assembles the product's).
    ``store = "ducklake"``: the working store is in memory and starts as the lake's whole content, landed in
    bulk and then derived once by ``finish_history`` (what ``load`` derives at its end), or loaded from the
    newest checkpoint that fits, the commits after it landed, then settled by ``settle_checkpoint``; every batch
    commits to the lake first (ingest.lake.LakeLander). Nothing is served over Quack: readers read the lake.
    """
    stop = stop or threading.Event()
    if install_signal_handlers:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, frame: stop.set())
    lake_mode = settings.store == "ducklake"
    threads = settings.pipeline.threads(os.cpu_count())
    con = open_working_store(settings, threads) if lake_mode else open_owner(settings, threads=threads)
    server: QuackServer | None = None
    ext: PipelineExtensions | None = None
    lake: LakeLog | None = None
    try:
        if settings.quack.enabled and not lake_mode:
            server = serve(con, settings)
            log.info("serving %s over Quack at %s", settings.db_path, server.uri)
        ensure_topics(settings.kafka)
        ext = extensions(con, settings)
        if lake_mode:
            lake = open_lake_log(settings, lake_member(settings))
            for attach in ext.on_lake:
                attach(lake)
            lander = build_lander(con, settings, ext, LakeLander, log_=lake,
                                  sync_interval_s=settings.ducklake.sync_interval_s,
                                  checkpointer=Checkpointer(settings, settings.ducklake.checkpoint_interval_s))
            _load_the_lake(typing.cast(LakeLander, lander), con, settings, finish_history, settle_checkpoint)
        else:
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
        if lake_mode:
            typing.cast(LakeLander, lander).final_checkpoint()
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
        if lake is not None:
            lake.con.close()
        con.close()


def _load_the_lake(
    lander: LakeLander, con: duckdb.DuckDBPyConnection, settings: Settings,
    finish_history: Callable[[duckdb.DuckDBPyConnection, Settings], object] | None,
    settle_checkpoint: Callable[[duckdb.DuckDBPyConnection, Settings], object] | None = None,
) -> None:
    """The working store starts as the lake's whole content: from the newest checkpoint that fits, then the
    commits it does not cover landed as the other pipelines' are; else landed in bulk, then derived once."""
    loaded = open_from_checkpoint(con, lander.lake, settings)
    if loaded is not None:
        lander.applied |= loaded[1]
        landed = lander.sync()
        if settle_checkpoint is not None:
            settle_checkpoint(con, settings)
        log.info("working store loaded from checkpoint %s, then %d messages of later commits", loaded[0].checkpoint_id,
                 landed)
        return
    lander.bulk = True
    try:
        landed = lander.sync()
    finally:
        lander.bulk = False
    if landed and finish_history is not None:
        finish_history(con, settings)
    log.info("working store loaded from the lake: %d messages of %d commits", landed, len(lander.applied))
