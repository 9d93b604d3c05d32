"""The composition root: the one place that knows the product's plug-ins and assembles the pipeline.

``ingest`` (the Kafka pipeline) and ``load`` (file backfills) both land batches through
:func:`pipeline_extensions`, so they run the same plug-ins in the same order: the order their declared
reads and writes give (ingest.plugins.order_plugins), not the order of :data:`PLUGINS`.
"""

from __future__ import annotations

import threading
from typing import Any

import duckdb

from customer_health.alerts import lake as lake_alerts
from customer_health.alerts import pipeline as alerts
from customer_health.churn import model as churn
from customer_health.clock import model_now
from customer_health.config import Settings
from customer_health.db import open_working_store, register_lake_reader
from customer_health.errors import UserError
from customer_health.health import lake as lake_interventions
from customer_health.health import refresh as health
from customer_health.health.backfill import finish_backfill
from customer_health.health.refresh import HealthRefresher, RefreshResult
from customer_health.sqlfiles import Statements, transaction
from expectations import batch as quality
from expectations import lake as lake_quality
from expectations.runner import get_runner
from ingest.checkpoint import Checkpoint, open_from_checkpoint
from ingest.landing import Lander
from ingest.plugins import PipelineExtensions, Plugin, assemble
from ingest.service import attach_lake_log, build_lander

PLUGINS: tuple[Plugin, ...] = (alerts.PLUGIN, churn.PLUGIN, health.PLUGIN, lake_interventions.PLUGIN, quality.PLUGIN,
                               lake_quality.PLUGIN)


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


def load_left_underived(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether rows an earlier load landed were never derived (it stopped before its end): a load derives them
    then, even when it lands nothing new."""
    return bool(Statements(con).value("load/underived"))


def settle_checkpoint(con: duckdb.DuckDBPyConnection, settings: Settings) -> RefreshResult | None:
    """After a working store was loaded from a checkpoint (and the commits after it landed): the history a late
    event left waiting for its rebuild (the leader rebuilds at most every health.history_rebuild_interval_seconds)
    derived again, and everyone refreshed, as a backfill would leave it; None when nothing waited."""
    if not Statements(con).value("health/history_dirty"):
        return None
    with transaction(con):
        return HealthRefresher(settings.health).full_refresh(con, model_now(Statements(con)), reason="checkpoint")


def derive_pending(con: duckdb.DuckDBPyConnection, settings: Settings) -> RefreshResult | None:
    """A reader's copy opened from a checkpoint: the customers its writer left pending (not derived there: it
    did not own them) computed from the rollups, as a full replay derives them; None when none were."""
    with transaction(con):
        return HealthRefresher(settings.health).refresh_pending(con, model_now(Statements(con)))


class LakeCopy:
    """A reader's model of the lake (``store = "ducklake"``), in memory: the group's every commit landed through
    the landing path of ``load`` (the same contract and plug-ins) and derived once, so every question is
    answered by the same SQL as on the file store, over the whole population; or, when the leader wrote a
    checkpoint that fits (ingest.checkpoint), that checkpoint and the commits made after it, landed as a
    pipeline lands a batch (``checkpoint``; ``replayed``: the messages landed from the lake on open).
    ``refresh`` lands the commits made since, likewise (the dashboard keeps one copy and refreshes it)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.con = open_working_store(settings)
        self._quality: tuple[Any, ...] | None = None  # the lake's quality runs the copy holds
        try:
            self.lake = attach_lake_log(settings, "reader")
            if not self.lake.has_log():
                raise UserError(f"the lake ({settings.ducklake.catalog}) holds nothing yet: start `customer-health "
                                'ingest` with store = "ducklake" first')
            self.lander = load_lander(self.con, settings)
            commits = [commit_id for commit_id, _pipeline, _n in self.lake.commits()]
            loaded = open_from_checkpoint(self.con, self.lake, settings)
            self.checkpoint: Checkpoint | None = None
            if loaded is not None:
                self.checkpoint, self.applied = loaded
                self.lander.bulk = False
                self.replayed = self._land([c for c in commits if c not in self.applied])
                settle_checkpoint(self.con, settings)
                derive_pending(self.con, settings)
            else:
                table = self.lake.messages(commits)
                if table.num_rows:
                    self.lander.land(table, "lake")
                    finish_load(self.con, settings)
                self.applied = set(commits)
                self.replayed = table.num_rows
                self.lander.bulk = False
            lake_alerts.copy_into(self.con, self.lake.con, settings.kafka.group_id)
            lake_interventions.copy_into(self.con, self.lake.con, settings.kafka.group_id)
            self._quality = lake_quality.copy_into(self.con, self.lake.con, settings.kafka.group_id)
        except BaseException:
            self.close()
            raise

    def refresh(self) -> int:
        """Land the commits made since the last refresh; the messages landed."""
        lake_alerts.copy_into(self.con, self.lake.con, self.settings.kafka.group_id)
        lake_interventions.copy_into(self.con, self.lake.con, self.settings.kafka.group_id)
        new = [commit_id for commit_id, _pipeline, _n in self.lake.commits() if commit_id not in self.applied]
        landed = self._land(new)
        # After landing: the runs of the copy's own batch suites (of the commits landed now) replaced by the group's.
        self._quality = lake_quality.copy_into(self.con, self.lake.con, self.settings.kafka.group_id,
                                               None if new else self._quality)
        return landed

    def _land(self, new: list[str]) -> int:
        """Land the commits ``new`` as a pipeline lands a batch; the messages landed."""
        if not new:
            return 0
        table = self.lake.messages(new)
        if table.num_rows:
            self.lander.land(table, "lake")
        self.applied.update(new)
        return table.num_rows

    def close(self) -> None:
        lake = getattr(self, "lake", None)
        if lake is not None:
            lake.con.close()
        self.con.close()


def open_lake_copy(settings: Settings) -> Statements:
    """A one-off reader of the lake (the command line): a :class:`LakeCopy` whose lake connection is closed."""
    copy = LakeCopy(settings)
    copy.lake.con.close()
    copy.lake = None  # type: ignore[assignment]
    return Statements(copy.con)


register_lake_reader(open_lake_copy)
