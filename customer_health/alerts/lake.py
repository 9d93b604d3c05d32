"""store = "ducklake": alerts are the group's, not one pipeline's.

A pipeline's alerts, their dedup/cooldown state and their webhook outcomes are recorded in the lake
(append-only tables, sql/statements/alerts/lake_create.sql), so that:

- an alert is raised once: before every evaluation a pipeline takes the group's latest state from the lake,
  so the new owner of a customer (after a rebalance or a kill -9) keeps the cooldown its old owner started;
- a fenced owner raises nothing: the alerts and their state commit in one lake transaction that holds only
  while the pipeline still owns its partitions (ingest.lake.LakeLog.commit_owned); when a claim took one,
  nothing is committed, the evaluation is rolled back and nothing is sent;
- a dead pipeline's deliveries are not lost: the alerts a pipeline that owns no partition any more left
  pending (killed -9 between raising and delivering, or while retrying) are queued again by the pipeline that
  raises their subject's alerts now (customer_health.alerts.pipeline.QualityAndAlerts.adopt_orphaned);
- readers list them: a reader's copy of the lake (customer_health.composition.LakeCopy) takes the group's
  alerts and deliveries from the lake (:func:`copy_into`).

Alert ids are unique among the group's pipelines without a shared sequence: the microsecond of the
evaluation times 1,000 plus a number drawn per pipeline (0-999), one microsecond further per alert.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from customer_health import sqlfiles
from customer_health.clock import utc_now
from customer_health.config import Settings
from ingest.lake import LakeLog, lake_tables

ID_SPREAD = 1000


class LakeAlerts:
    """One pipeline's alerts in the lake; ``attach`` (the pipeline's on_lake hook) before the first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.lake: LakeLog | None = None
        self._nonce = secrets.randbelow(ID_SPREAD)
        self._last_us = 0
        self._ids_lock = threading.Lock()

    def attach(self, lake: LakeLog) -> None:
        lake.commit_owned((), lambda con: sqlfiles.Statements(con, prepare=False).run("alerts/lake_create"))
        self.lake = lake

    @property
    def attached(self) -> bool:
        return self.lake is not None

    def _log(self) -> LakeLog:
        if self.lake is None:
            raise RuntimeError("the lake's alerts are not attached yet")
        return self.lake

    def next_ids(self, n: int) -> list[int]:
        """``n`` alert ids, in order, unique among the group's pipelines (see the module's docstring)."""
        with self._ids_lock:
            start = max(time.time_ns() // 1000, self._last_us + 1)
            self._last_us = start + n - 1
        return [(start + i) * ID_SPREAD + self._nonce for i in range(n)]

    def state_since(self, since: datetime, now: datetime) -> list[tuple[Any, ...]]:
        """The group's dedup/cooldown states fired in [``since``, ``now``] (alerts/load_state's columns; wall
        clock)."""
        lake = self._log()
        return lake.read(lambda con: sqlfiles.Statements(con, prepare=False).rows(
            "alerts/lake_state", {"group_id": lake.group_id, "since": since, "now": now}))

    def undelivered(self, since: datetime) -> list[tuple[Any, ...]]:
        """The group's alerts created since ``since`` still pending that another pipeline answers for
        (alerts/lake_undelivered's columns)."""
        lake = self._log()
        return lake.read(lambda con: sqlfiles.Statements(con, prepare=False).rows(
            "alerts/lake_undelivered", {"group_id": lake.group_id, "pipeline": lake.member, "since": since}))

    def deliveries(self) -> pa.Table:
        """The group's latest webhook outcome per (alert, receiver) (alerts/lake_deliveries' columns)."""
        lake = self._log()
        return lake.read(lambda con: sqlfiles.Statements(con, prepare=False).run(
            "alerts/lake_deliveries", {"group_id": lake.group_id}).fetch_arrow_table())

    def owners(self) -> set[str]:
        """The pipelines that own a partition of the group now."""
        return {position.owner for position in self._log().positions().values()}

    def record(self, partitions: list[tuple[str, int]], written: Mapping[str, pd.DataFrame]) -> None:
        """Record what an evaluation wrote (alerts, state) in the lake, while this pipeline owns
        ``partitions``; raises ingest.lake.Fenced (nothing recorded) once another pipeline claimed one."""
        lake = self._log()
        params = {"group_id": lake.group_id, "pipeline": lake.member, "now": utc_now()}

        def write(con: duckdb.DuckDBPyConnection) -> None:
            sql = sqlfiles.Statements(con, prepare=False)
            for relation, name in (("new_alerts", "alerts/lake_insert_alerts"),
                                   ("alert_state_updates", "alerts/lake_insert_state")):
                frame = written.get(relation)
                if frame is None or frame.empty:
                    continue
                con.register(relation, frame)
                try:
                    sql.run(name, params)
                finally:
                    con.unregister(relation)
        lake.commit_owned(partitions, write)

    def record_delivery(self, local: duckdb.DuckDBPyConnection, params: Mapping[str, Any]) -> None:
        """Record one webhook outcome (WebhookSink's record parameters) and the alert's status it gave, read
        on ``local`` (the working store), in the lake. Outcomes are facts: no ownership needed."""
        lake = self._log()
        frame = sqlfiles.Statements(local).df("alerts/local_alert", {"alert_id": params["alert_id"]})
        values = {**params, "group_id": lake.group_id, "pipeline": lake.member, "now": utc_now()}

        def write(con: duckdb.DuckDBPyConnection) -> None:
            con.register("local_alert", frame)
            try:
                sqlfiles.Statements(con, prepare=False).run("alerts/lake_insert_delivery", values)
            finally:
                con.unregister("local_alert")
        lake.commit_owned((), write)


def copy_into(local: duckdb.DuckDBPyConnection, lake_con: duckdb.DuckDBPyConnection, group_id: str) -> int:
    """Replace the alerts and deliveries of a reader's copy (``local``) with the group's in the lake
    (attached on ``lake_con``); how many alerts. A lake no pipeline recorded alerts in leaves them empty."""
    if not {"alert_log", "alert_delivery_log"} <= lake_tables(lake_con):
        return 0
    lake_sql = sqlfiles.Statements(lake_con, prepare=False)
    alerts = lake_sql.run("alerts/lake_alerts", {"group_id": group_id}).fetch_arrow_table()
    deliveries = lake_sql.run("alerts/lake_deliveries", {"group_id": group_id}).fetch_arrow_table()
    local.register("lake_alerts", alerts)
    local.register("lake_deliveries", deliveries)
    try:
        with sqlfiles.transaction(local):
            sqlfiles.Statements(local, prepare=False).run("alerts/copy_lake_alerts")
    finally:
        local.unregister("lake_alerts")
        local.unregister("lake_deliveries")
    return alerts.num_rows
