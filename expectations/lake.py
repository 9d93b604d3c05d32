"""store = "ducklake": quality runs are the group's, recorded in the lake.

Every writer appends its runs and their stored expectation results to append-only lake tables
(sql/statements/quality/lake_create.sql), each run's rows once, in a lake commit of their own (a conflict
retried), so writers never conflict (DuckLake checks conflicts per table: inserts beside inserts commit):

- a pipeline records the batch suites' runs of each batch it landed itself (not of the commits of other
  pipelines it lands from the lake: their pipelines record those) and its scheduled table suites' runs
  (:data:`PLUGIN`, at most every ``ducklake.sync_interval_s`` and when it stops);
- `customer-health check` records its stored runs (:func:`record_runs`);
- readers see them: a reader's copy of the lake (customer_health.composition.LakeCopy) replaces its
  quality runs with the group's (:func:`copy_into`), so the data-quality page, `check` and `status` show the
  pipelines' runs;
- old runs are pruned from one place, as lake maintenance (:func:`prune`, run by `lake-maintain`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import duckdb

from customer_health.clock import utc_now
from customer_health.config import Settings
from customer_health.sqlfiles import Statements, transaction
from ingest.lake import LakeLog, lake_tables
from ingest.landing import BatchResult
from ingest.plugins import PipelineExtensions, Plugin

log = logging.getLogger(__name__)

LOG_TABLES = frozenset({"quality_run_log", "quality_result_log"})
NO_TABLE_RUNS = 2**62  # a run id no run reaches: no table-scope run selected


def ensure_tables(lake: LakeLog) -> None:
    """The lake's quality tables, created when missing."""
    lake.commit_owned((), lambda con: Statements(con, prepare=False).run("quality/lake_create"))


def record_runs(
    lake: LakeLog, local: duckdb.DuckDBPyConnection, *, batch_ids: Sequence[int] = (),
    table_runs_after: int | None = None, run_ids: Sequence[int] = (),
) -> list[tuple[int, str]]:
    """Append to the lake, in one commit, the runs recorded on ``local`` (a working store or a reader's copy)
    of the batches ``batch_ids``, the table-scope runs after run ``table_runs_after`` and the runs ``run_ids``,
    with their stored results, as written by ``lake.member``; (run id, scope) of each run appended."""
    if not batch_ids and not run_ids and table_runs_after is None:
        return []
    sql = Statements(local, prepare=False)
    runs = sql.run("quality/local_runs", {
        "batch_ids": list(batch_ids), "run_ids": list(run_ids),
        "after": NO_TABLE_RUNS if table_runs_after is None else table_runs_after,
    }).fetch_arrow_table()
    if not runs.num_rows:
        return []
    ids = [int(i) for i in runs["run_id"].to_pylist()]
    results = sql.run("quality/local_results", {"run_ids": ids}).fetch_arrow_table()
    params = {"group_id": lake.group_id, "pipeline": lake.member, "now": utc_now()}

    def write(con: duckdb.DuckDBPyConnection) -> None:
        lake_sql = Statements(con, prepare=False)
        lake_sql.run("quality/lake_create")
        con.register("pushed_runs", runs)
        con.register("pushed_results", results)
        try:
            lake_sql.run("quality/lake_insert_runs", params)
            lake_sql.run("quality/lake_insert_results", params)
        finally:
            con.unregister("pushed_runs")
            con.unregister("pushed_results")
    lake.commit_owned((), write)
    return list(zip(ids, [str(scope) for scope in runs["scope"].to_pylist()], strict=True))


def copy_into(
    local: duckdb.DuckDBPyConnection, lake_con: duckdb.DuckDBPyConnection, group_id: str,
    copied: tuple[Any, ...] | None = None,
) -> tuple[Any, ...] | None:
    """Replace the quality runs and results of a reader's copy (``local``) with the group's in the lake
    (attached on ``lake_con``), unless the lake holds the runs it held when it returned ``copied`` (given back:
    the copy holds them already); what the lake held (None: nobody recorded runs there, the copy keeps its own)."""
    if not LOG_TABLES <= lake_tables(lake_con):
        return None
    lake_sql = Statements(lake_con, prepare=False)
    state = lake_sql.row("quality/lake_runs_state", {"group_id": group_id})
    if copied is not None and state == copied:
        return state
    runs = lake_sql.run("quality/lake_runs", {"group_id": group_id}).fetch_arrow_table()
    results = lake_sql.run("quality/lake_results", {"group_id": group_id}).fetch_arrow_table()
    cur = local.cursor()
    cur.register("lake_runs", runs)
    cur.register("lake_results", results)
    try:
        with transaction(cur):
            Statements(cur, prepare=False).run("quality/copy_lake_runs")
    finally:
        cur.unregister("lake_runs")
        cur.unregister("lake_results")
        cur.close()
    return state


def prune(lake: LakeLog, settings: Settings, now: datetime) -> int:
    """Lake maintenance: the group's runs older than the quality retention (batch and table scopes) and their
    results deleted, from one place (`lake-maintain`), each scope in a commit of its own (retried); how many
    runs."""
    if not LOG_TABLES <= lake_tables(lake.con):
        return 0
    quality = settings.quality
    pruned = 0
    for scope, days in (("batch", quality.batch_runs_retention_days), ("table", quality.table_runs_retention_days)):
        params = {"group_id": lake.group_id, "scope": scope, "before": now - timedelta(days=days)}

        def delete(con: duckdb.DuckDBPyConnection, params: dict[str, object] = params) -> int:
            sql = Statements(con, prepare=False)
            sql.rows("quality/lake_prune_results", params)
            return int(sql.rows("quality/lake_prune_runs", params)[0][0])
        pruned += int(lake.commit_owned((), delete))
    return pruned


class PipelineQualityLog:
    """A lake pipeline's quality runs into the lake: those of the batches it landed itself (``on_landed``
    collects them) and its table-scope runs, at most every ``sync_interval_s`` on the poll loop's tick and
    once more when the pipeline stops."""

    def __init__(self, con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
        self.con = con
        self.sync_interval_s = settings.ducklake.sync_interval_s
        self.lake: LakeLog | None = None
        self._pending: list[int] = []  # batches landed here whose runs are not in the lake yet
        self._pending_lock = threading.Lock()
        self._table_runs_after = 0
        self._pushed_at = 0.0
        self.pushed = 0  # lake commits of runs so far (tests read it)

    def attach(self, lake: LakeLog) -> None:
        ensure_tables(lake)
        self.lake = lake
        # Runs recorded before (the lake's history landed at start) are not this pipeline's to record.
        with self.con.cursor() as cur:
            self._table_runs_after = int(Statements(cur, prepare=False).row("quality/last_run_id")[0])

    def on_landed(self, result: BatchResult) -> None:
        if self.lake is not None and not result.fenced and result.messages:
            with self._pending_lock:
                self._pending.append(result.batch_id)

    def on_tick(self) -> None:
        if self.lake is not None and time.monotonic() - self._pushed_at >= self.sync_interval_s:
            try:
                self.push()
            except (duckdb.Error, RuntimeError):  # the lake unreachable for a moment: tried again on a later tick
                log.warning("cannot record the quality runs in the lake", exc_info=True)

    def push(self) -> int:
        """The runs of this pipeline not in the lake yet into it, in one commit; how many batches' runs."""
        self._pushed_at = time.monotonic()
        if self.lake is None:
            return 0
        with self._pending_lock:
            batches, self._pending = self._pending, []
        try:
            with self.con.cursor() as cur:
                appended = record_runs(self.lake, cur, batch_ids=batches, table_runs_after=self._table_runs_after)
        except BaseException:
            with self._pending_lock:
                self._pending[:0] = batches
            raise
        if appended:
            self.pushed += 1
            # Table-scope runs are recorded by one thread (the scheduled suites), so theirs ids only grow.
            self._table_runs_after = max([self._table_runs_after, *(i for i, scope in appended if scope == "table")])
        return len(batches)

    def stop(self) -> None:
        try:
            self.push()
        except (duckdb.Error, RuntimeError):
            log.warning("the last quality runs could not be recorded in the lake", exc_info=True)


def install(con: duckdb.DuckDBPyConnection, settings: Settings) -> PipelineExtensions:
    """store = "ducklake": the pipeline's quality runs into the lake (nothing on the file store)."""
    if settings.store != "ducklake":
        return PipelineExtensions()
    runs = PipelineQualityLog(con, settings)
    return PipelineExtensions(on_landed=[runs.on_landed], on_tick=[runs.on_tick], on_stop=[runs.stop],
                              on_lake=[runs.attach])


PLUGIN = Plugin(name="quality-lake", reads=frozenset({"quality_runs", "quality_results"}), writes=frozenset(),
                install=install)
