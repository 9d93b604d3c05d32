"""store = "ducklake": interventions are the group's, recorded in the lake.

``intervene`` and the dashboard's form record an intervention in an append-only lake table
(sql/statements/health/lake_create_interventions.sql), so that writers never conflict (DuckLake checks
conflicts per table: inserts beside inserts commit) and nothing is lost with a reader's copy:

- readers see them: a reader's copy of the lake (customer_health.composition.LakeCopy) adds the lake's
  interventions it does not hold yet (:func:`copy_into`), when it opens and on every refresh;
- pipelines see them: the next step, the household and return-after-exit flags (the customer_health view,
  which the alerts and the table suites read) come from the working store's interventions table, which
  :data:`PLUGIN` fills from the lake once attached and then every ``ducklake.sync_interval_s`` seconds.

Intervention ids are unique among the lake's writers without a shared sequence: the microsecond of the
recording times 1,000 plus a number drawn at random (0-999).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Mapping
from typing import Any

import duckdb

from customer_health import sqlfiles
from customer_health.config import Settings
from ingest.lake import LakeLog, lake_tables
from ingest.plugins import PipelineExtensions, Plugin
from ingest.service import attach_lake_log

log = logging.getLogger(__name__)

ID_SPREAD = 1000
LOG_TABLE = "intervention_log"


def next_id() -> int:
    """An intervention id unique among the lake's writers (see the module's docstring)."""
    return (time.time_ns() // 1000) * ID_SPREAD + secrets.randbelow(ID_SPREAD)


def record(settings: Settings, values: Mapping[str, Any], local: duckdb.DuckDBPyConnection | None = None) -> int:
    """Record one intervention (health/lake_record_intervention's parameters but the group and the id) in the
    lake, a conflict retried; its id. ``local``: a reader's copy of the lake, which holds it at once."""
    lake = attach_lake_log(settings, "intervene")
    try:
        intervention_id = next_id()
        params = {**values, "group_id": lake.group_id, "intervention_id": intervention_id}

        def write(con: duckdb.DuckDBPyConnection) -> None:
            sql = sqlfiles.Statements(con, prepare=False)
            sql.run("health/lake_create_interventions")
            sql.run("health/lake_record_intervention", params)
        lake.commit_owned((), write)
        if local is not None:
            copy_into(local, lake.con, lake.group_id)
    finally:
        lake.con.close()
    return intervention_id


def copy_into(local: duckdb.DuckDBPyConnection, lake_con: duckdb.DuckDBPyConnection, group_id: str) -> int:
    """Add the group's interventions in the lake (attached on ``lake_con``) that ``local`` (a working store or
    a reader's copy) does not hold yet; how many. A lake nobody recorded an intervention in adds none."""
    if LOG_TABLE not in lake_tables(lake_con):
        return 0
    rows = sqlfiles.Statements(lake_con, prepare=False).run(
        "health/lake_interventions", {"group_id": group_id}).fetch_arrow_table()
    if not rows.num_rows:
        return 0
    cur = local.cursor()
    cur.register("lake_interventions", rows)
    try:
        with sqlfiles.transaction(cur):
            added = sqlfiles.Statements(cur, prepare=False).value("health/copy_lake_interventions")  # rows inserted
    finally:
        cur.unregister("lake_interventions")
        cur.close()
    return int(added or 0)


class PipelineInterventions:
    """A lake pipeline's working store takes the group's interventions: when the lake is attached (before
    the first batch), then at most every ``sync_interval_s`` seconds, on the poll loop's tick."""

    def __init__(self, con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
        self.con = con
        self.sync_interval_s = settings.ducklake.sync_interval_s
        self.lake: LakeLog | None = None
        self._taken_at = 0.0
        self.taken = 0  # interventions taken from the lake so far

    def attach(self, lake: LakeLog) -> None:
        self.lake = lake
        self.take()

    def on_tick(self) -> None:
        if self.lake is not None and time.monotonic() - self._taken_at >= self.sync_interval_s:
            try:
                self.take()
            except duckdb.Error:  # the lake unreachable for a moment: tried again on a later tick
                log.warning("cannot take the interventions from the lake", exc_info=True)

    def take(self) -> int:
        """The lake's interventions the working store does not hold yet into it; how many."""
        lake = self.lake
        assert lake is not None
        self._taken_at = time.monotonic()
        taken = int(lake.read(lambda lake_con: copy_into(self.con, lake_con, lake.group_id)))
        if taken:
            self.taken += taken
            log.info("%d intervention(s) taken from the lake", taken)
        return taken


def install(con: duckdb.DuckDBPyConnection, settings: Settings) -> PipelineExtensions:
    """store = "ducklake": the lake's interventions into the working store (nothing on the file store)."""
    if settings.store != "ducklake":
        return PipelineExtensions()
    interventions = PipelineInterventions(con, settings)
    return PipelineExtensions(on_tick=[interventions.on_tick], on_lake=[interventions.attach])


PLUGIN = Plugin(name="interventions", reads=frozenset(), writes=frozenset({"interventions"}), install=install)
