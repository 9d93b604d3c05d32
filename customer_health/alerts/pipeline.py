"""Quality and alerts inside the pipeline process.

- ``on_tick``: cheap clock checks on the poll loop; due jobs go to one background worker thread, so the
  poll loop never waits on them: the table suites every ``pipeline.schedule_interval_s`` and the alert
  evaluation every ``alerts.evaluate_interval_s``. Each job keeps its own clock.
- Alerts are evaluated, stored and their cursors moved in one transaction on the worker's cursor; the
  webhook gets them after the commit, from its own thread (customer_health.alerts.webhook).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import duckdb
import pandas as pd

from customer_health import sqlfiles
from customer_health.alerts.engine import AlertCandidate, AlertEngine, DispatchReport
from customer_health.alerts.lake import LakeAlerts
from customer_health.alerts.sources import AlertSources
from customer_health.alerts.webhook import WebhookSink, receiver_urls
from customer_health.clock import utc_now
from customer_health.config import Settings
from expectations.runner import get_runner
from expectations.tables import record_table_check, run_table_suites
from ingest.lake import Fenced, LakeLog
from ingest.plugins import PipelineExtensions, Plugin

log = logging.getLogger("customer_health.alerts")

TABLE_SUITES = "table_suites"
# Sources whose subject is a customer id (the others are about the pipeline or the whole portfolio).
CUSTOMER_SOURCES = frozenset({"segment", "drift", "fading"})
ALERTS = "alerts"
# Alerts left pending by a previous pipeline are sent again when younger than this.
REQUEUE_WINDOW = timedelta(hours=24)
# store = "ducklake": how often a pipeline looks for the deliveries a gone pipeline left pending (a lake read
# that waits for the landing thread's commits), besides at once when its partitions changed.
ORPHANS_CHECK_INTERVAL_S = 30.0


class QualityAndAlerts:
    """The pipeline's scheduled table suites and alerts; threads start on the first tick, ``stop()`` ends them."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        settings: Settings,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.con = con
        self.settings = settings
        self.clock = clock or utc_now
        alerts = settings.alerts
        # store = "ducklake": the group's alerts live in the lake (attached by the pipeline's on_lake hook).
        self.lake = LakeAlerts(settings) if settings.store == "ducklake" else None
        self.sink = (WebhookSink(con.cursor, alerts, on_recorded=self._copy_delivery if self.lake else None)
                     if alerts.enabled and receiver_urls(alerts) else None)
        self.engine = self._new_engine()
        self._adopted: set[int] = set()  # lake: alerts of gone pipelines queued here (once each)
        self._orphans_checked: tuple[float, list[tuple[str, int]]] | None = None  # lake: when, for which partitions
        self._evaluated_for: list[tuple[str, int]] = []  # lake: the partitions of the last evaluation (logged)
        self.sources = AlertSources(settings, started_at=self.clock())
        self._intervals = {TABLE_SUITES: settings.pipeline.schedule_interval_s}
        if alerts.enabled:
            self._intervals[ALERTS] = alerts.evaluate_interval_s
        started = time.monotonic()
        self._next_due = {job: started + interval for job, interval in self._intervals.items()}
        self._jobs: queue.Queue[str | None] = queue.Queue()
        self._queued: set[str] = set()
        self._worker: threading.Thread | None = None
        self._stopping = threading.Event()
        self.runs: dict[str, int] = {TABLE_SUITES: 0, ALERTS: 0}

    def _new_engine(self) -> AlertEngine:
        engine = AlertEngine(self.settings.alerts, self.sink)
        if self.lake is not None:
            engine.id_source = self.lake.next_ids
        return engine

    # --- pipeline hooks ----------------------------------------------------------------------------------------

    def on_tick(self) -> None:
        """Queue the jobs that are due (never runs them on the poll thread)."""
        if self._worker is None:
            self._start()
        now = time.monotonic()
        for job, due in self._next_due.items():
            if now >= due and job not in self._queued:
                self._queued.add(job)
                self._next_due[job] = now + self._intervals[job]
                self._jobs.put(job)

    def attach_lake(self, lake: LakeLog) -> None:
        """store = "ducklake": record the alerts in the lake from now on (before the first batch)."""
        if self.lake is not None:
            self.lake.attach(lake)

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the running job, deliver queued webhooks within ``timeout`` s, stop the threads."""
        if self._worker is not None:
            self._stopping.set()
            self._jobs.put(None)
            self._worker.join(timeout)
            self._worker = None
        if self.sink is not None:
            self.sink.close(timeout)

    # --- jobs (on the worker thread) ----------------------------------------------------------------------------

    def run_table_suites(self, cur: duckdb.DuckDBPyConnection) -> Any:
        now = self.clock()
        sql = sqlfiles.Statements(cur)
        check = run_table_suites(sql, self.settings, now)
        with sqlfiles.transaction(cur):  # a run and its results at once (store = "ducklake": copied to the lake)
            record_table_check(sql, check, trigger="schedule")
        quality = self.settings.quality
        for scope, days in (("batch", quality.batch_runs_retention_days), ("table", quality.table_runs_retention_days)):
            before = now - timedelta(days=days)
            sql.run("quality/prune_results", {"scope": scope, "before": before})
            sql.run("quality/prune_runs", {"scope": scope, "before": before})
        failed = [r.suite for r in check.results if not r.success]
        log.info("table suites: %d run, %s", len(check.results),
                 f"critical failures in {', '.join(failed)}" if failed else "no critical failure")
        return check

    def evaluate_alerts(self, cur: duckdb.DuckDBPyConnection) -> DispatchReport:
        # The wall clock, on either [clock] source: every time an alert source or the engine compares is
        # operational (batches committed, lag observed, dead letters, alerts fired: all stamped by the wall
        # clock), and cooldowns and flood windows are for people. What depends on the model's time (drift,
        # segments, fading) comes from the health and churn models, evaluated at the model's now.
        now = self.clock()
        partitions: list[tuple[str, int]] = []
        if self.lake is not None and (not self.lake.attached or not self.owns_partitions(cur)):
            # Between a revoke and the next claim: evaluating now would drop every customer's alerts and move
            # the cursors past them; the next evaluation with partitions picks them up.
            return DispatchReport()
        try:
            with sqlfiles.transaction(cur):
                taken = self.take_lake_state(cur, now) if self.lake is not None else 0
                evaluation = self.sources.evaluate(cur, now)
                if self.lake is not None:
                    evaluation.candidates = self.raised_here(cur, evaluation.candidates)
                report = self.engine.dispatch(cur, evaluation.candidates, now)
                self.sources.save_cursors(cur, evaluation, now)
                if self.lake is not None:
                    partitions = [(str(t), int(p)) for t, p in sqlfiles.Statements(cur).rows("alerts/owned_partitions")]
                    if report.written:  # in the lake before the local commit: fenced, nothing is stored or sent
                        self.lake.record(partitions, report.written)
        except Fenced as exc:
            log.warning("alerts of this evaluation given up, a partition moved to another pipeline: %s", exc)
            self.engine = self._new_engine()  # its memory held the given-up alerts: reloaded from the tables
            return DispatchReport()
        self.engine.deliver(report)
        if self.lake is not None and partitions != self._evaluated_for:
            self._evaluated_for = partitions
            log.info("alerts evaluated for %s: %d raised, %d held, %d suppressed (%d states from the lake)",
                     ", ".join(f"{t}[{p}]" for t, p in partitions), len(report.sent), len(report.held),
                     report.suppressed, taken)
        if self.lake is not None and self._orphans_due(partitions):
            self.adopt_orphaned(cur)
        return report

    def _orphans_due(self, partitions: list[tuple[str, int]]) -> bool:
        """Whether to look for a gone pipeline's pending deliveries now: this pipeline's partitions changed (it
        may have taken a dead one's) or the last look is ORPHANS_CHECK_INTERVAL_S old."""
        now = time.monotonic()
        last = self._orphans_checked
        if last is not None and last[1] == partitions and now - last[0] < ORPHANS_CHECK_INTERVAL_S:
            return False
        self._orphans_checked = (now, partitions)
        return True

    def adopt_orphaned(self, cur: duckdb.DuckDBPyConnection) -> int:
        """store = "ducklake": queue the webhook deliveries a pipeline that owns no partition any more (killed,
        or gone while retrying) left pending, of the subjects whose alerts this pipeline raises now, each once;
        their outcomes are recorded here and in the lake. How many. At least once: a receiver can get an alert
        a second time (same ``X-Alert-Id``) when its first pipeline lost its partitions but still delivers."""
        if self.lake is None or self.sink is None:
            return 0
        rows = [r for r in self.lake.undelivered(self.clock() - REQUEUE_WINDOW) if int(r[0]) not in self._adopted]
        if rows:
            owners = self.lake.owners()
            rows = [r for r in rows if str(r[1]) not in owners]
        if rows:
            mine = self.raised_keys(cur, [(str(r[3]), str(r[4])) for r in rows])
            rows = [r for r in rows if (str(r[3]), str(r[4])) in mine]
        if not rows:
            return 0
        adopted = pd.DataFrame([r[:9] for r in rows], columns=[
            "alert_id", "answered_by", "created_at", "source", "subject", "severity", "title", "payload",
            "summary_alert_id"])
        adopted["summary_alert_id"] = adopted["summary_alert_id"].astype("Int64")
        cur.register("adopted", adopted)
        cur.register("adopted_deliveries", self.lake.deliveries())
        try:
            with sqlfiles.transaction(cur):
                sqlfiles.Statements(cur).run("alerts/adopt_lake_alerts")
        finally:
            cur.unregister("adopted")
            cur.unregister("adopted_deliveries")
        for row in rows:
            self._adopted.add(int(row[0]))
            self.sink.submit(int(row[0]), json.loads(row[7]), skip=list(row[9]))
        log.info("re-queued %d alert(s) left undelivered by %s", len(rows),
                 ", ".join(sorted({str(r[1]) for r in rows})))
        return len(rows)

    def take_lake_state(self, cur: duckdb.DuckDBPyConnection, now: datetime) -> int:
        """store = "ducklake": the group's dedup/cooldown states newer than ours (fired by the pipeline that owned
        a customer before) into the engine and the alert_state table; how many."""
        assert self.lake is not None
        alerts = self.settings.alerts
        longest = max([alerts.cooldown_minutes, *alerts.cooldown_minutes_by_source.values()])
        taken = self.engine.merge_state(self.lake.state_since(now - timedelta(minutes=longest), now))
        if taken:
            frame = pd.DataFrame(taken, columns=["source", "subject", "last_alert_id", "last_fired_at",
                                                 "last_severity", "suppressed", "last_seen_at"])
            cur.register("alert_state_updates", frame)
            try:
                sqlfiles.Statements(cur).run("alerts/upsert_state")
            finally:
                cur.unregister("alert_state_updates")
        return len(taken)

    def _copy_delivery(self, params: Mapping[str, Any]) -> None:
        assert self.lake is not None
        with self.con.cursor() as cur:
            self.lake.record_delivery(cur, params)

    def raised_here(self, cur: duckdb.DuckDBPyConnection, candidates: list[AlertCandidate]) -> list[AlertCandidate]:
        """store = "ducklake": of N pipelines sharing the lake (each holding every customer), only the owner of a
        customer's home partition raises its alerts, and only the owner of partition 0 of the customers topic
        the portfolio-wide ones (pipeline health, dead letters, quality), so that each is raised once."""
        mine = self.raised_keys(cur, [(c.source, c.subject) for c in candidates])
        return [c for c in candidates if (c.source, c.subject) in mine]

    def raised_keys(self, cur: duckdb.DuckDBPyConnection, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        """Of the (source, subject) ``keys``, those whose alerts this pipeline raises (see raised_here)."""
        subjects = sorted({subject for source, subject in keys if source in CUSTOMER_SOURCES})
        customers, leader, _ = sqlfiles.Statements(cur).row(
            "alerts/owned_customers", {"customers_topic": self.settings.kafka.topics.customers, "subjects": subjects})
        owned = set(customers)
        return {(source, subject) for source, subject in keys
                if (subject in owned if source in CUSTOMER_SOURCES else bool(leader))}

    def owns_partitions(self, cur: duckdb.DuckDBPyConnection) -> bool:
        """store = "ducklake": whether this pipeline owns any partition now."""
        return bool(sqlfiles.Statements(cur).row(
            "alerts/owned_customers", {"customers_topic": self.settings.kafka.topics.customers, "subjects": []})[2])

    # --- worker -------------------------------------------------------------------------------------------------

    def _start(self) -> None:
        if self.sink is not None:
            self.sink.start()
        if self.settings.alerts.enabled:
            log.info("alerts: stored, logged and %s", f"posted to {self.sink.target}" if self.sink is not None
                     else "not posted (no alerts.webhook_url / --alert-webhook)")
        self._worker = threading.Thread(target=self._work, name="quality-alerts", daemon=True)
        self._worker.start()

    def _work(self) -> None:
        cur = self.con.cursor()
        try:
            try:  # load Great Expectations (seconds) while the consumer joins its group, not in the first batch
                get_runner(self.settings.quality.failing_sample_rows)
            except Exception:
                log.exception("cannot load Great Expectations: quality suites will fail until it loads")
            if self.sink is not None:
                requeued = self.sink.requeue_undelivered(cur, self.clock() - REQUEUE_WINDOW)
                if requeued:
                    log.info("re-queued %d undelivered alert(s) for %s", requeued, self.sink.target)
            while not self._stopping.is_set():
                job = self._jobs.get()
                if job is None:
                    return
                try:
                    if job == TABLE_SUITES:
                        self.run_table_suites(cur)
                    elif job == ALERTS:
                        self.evaluate_alerts(cur)
                    self.runs[job] += 1
                except Exception:  # a failing job is logged and retried on its next turn
                    log.exception("%s job failed", job)
                finally:
                    self._queued.discard(job)
        finally:
            cur.close()


def install(con: duckdb.DuckDBPyConnection, settings: Settings) -> PipelineExtensions:
    """The scheduled table suites and alerts of the pipeline (``load`` never ticks: they do not run there)."""
    jobs = QualityAndAlerts(con, settings)
    return PipelineExtensions(on_tick=[jobs.on_tick], on_stop=[jobs.stop], on_lake=[jobs.attach_lake])


PLUGIN = Plugin(
    name="alerts",
    reads=frozenset({"segment_changes", "health_state", "churn_fading", "quality_results", "consumer_lag",
                     "ingest_batches", "dead_letter", "customers", "tickets", "payments", "visits",
                     "health_snapshots", "pipeline_partitions", "customer_partitions", "health_pending",
                     # the customer_health view's next step and flags, read by the drift alerts and table suites
                     "interventions"}),
    writes=frozenset({"alerts", "alert_state", "alert_cursors", "quality_runs", "quality_results"}),
    install=install,
)
