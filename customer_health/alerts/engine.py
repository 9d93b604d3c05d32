"""The alert engine: deduplication, cooldown and circuit breaker; every alert stored, logged and sent.

``dispatch`` runs inside the caller's transaction (it only writes ``alerts`` and ``alert_state``);
``deliver`` runs after the commit and hands the alerts to the log and the webhook sink.

- Dedup and cooldown: a (source, subject) that fired stays quiet for its cooldown
  (``alerts.cooldown_minutes``, per source ``alerts.cooldown_minutes_by_source``) unless the new
  candidate is more severe; suppressed repeats are counted in ``alert_state``.
- Circuit breaker, per source: when more than ``alerts.flood_threshold`` alerts would go out within
  ``alerts.flood_window_minutes``, the breaker opens: the alerts are stored as ``held`` and one summary
  alert stands for them. While open (each held wave extends it by a window) later alerts of the source
  are held too; when it closes, one follow-up summary counts those, if any.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import duckdb
import pandas as pd

from customer_health import sqlfiles
from customer_health.config import AlertSettings
from customer_health.jsonsafe import jsonable

log = logging.getLogger("customer_health.alerts")

SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}
SUMMARY_SUBJECT = "*"
SAMPLE_SIZE = 10


@dataclass(frozen=True)
class AlertCandidate:
    """Something a source found that may need a human; the engine decides whether it becomes an alert."""

    source: str
    subject: str
    severity: str  # critical | warning | info
    title: str
    details: dict[str, Any] = field(default_factory=dict)
    group: str = ""  # what a flood summary counts it as (e.g. "healthy -> at_risk")


@dataclass
class Evaluation:
    """What one evaluation of the sources found, and the source cursors to store with its alerts."""

    candidates: list[AlertCandidate] = field(default_factory=list)
    cursors: dict[str, int] = field(default_factory=dict)  # to store once the alerts are stored
    catching_up: str | None = None


@dataclass(frozen=True)
class StoredAlert:
    alert_id: int
    created_at: datetime
    source: str
    subject: str
    severity: str
    title: str
    payload: dict[str, Any]
    delivery_status: str
    summary_alert_id: int | None = None


@dataclass
class DispatchReport:
    sent: list[StoredAlert] = field(default_factory=list)  # individual alerts and summaries, in order
    held: list[StoredAlert] = field(default_factory=list)
    suppressed: int = 0
    # What dispatch wrote, by the name of its registered relation (new_alerts, alert_state_updates): what a
    # lake pipeline records in the lake too (customer_health.alerts.lake).
    written: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def summaries(self) -> list[StoredAlert]:
        return [a for a in self.sent if a.subject == SUMMARY_SUBJECT]


class DeliverySink(Protocol):
    def submit(self, alert_id: int, payload: dict[str, Any]) -> bool: ...


@dataclass
class _State:
    source: str
    subject: str
    last_alert_id: int
    last_fired_at: datetime
    last_severity: str
    suppressed: int
    last_seen_at: datetime


@dataclass
class _Breaker:
    sent: deque[datetime] = field(default_factory=deque)
    open_until: datetime | None = None
    summary_alert_id: int | None = None
    held_since_summary: int = 0
    groups_since_summary: Counter[str] = field(default_factory=Counter)
    sample_since_summary: list[dict[str, str]] = field(default_factory=list)
    severity_since_summary: str = "info"


@dataclass
class _Planned:
    candidate: AlertCandidate
    status: str  # sent | held
    summary_index: int | None = None  # index in the plan of the summary a held alert belongs to


class AlertEngine:
    """Turns candidates into stored alerts; one instance per pipeline (its state lives in memory and in
    ``alert_state``, reloaded on start)."""

    def __init__(self, settings: AlertSettings, sink: DeliverySink | None = None) -> None:
        self.settings = settings
        self.sink = sink
        self._state: dict[tuple[str, str], _State] = {}
        self._breakers: dict[str, _Breaker] = {}
        self._loaded = False
        # n -> n fresh alert ids, in order (default: the database's sequence; a lake pipeline's are unique
        # among every pipeline's).
        self.id_source: Callable[[int], list[int]] | None = None

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.settings.flood_window_minutes)

    def cooldown(self, source: str) -> timedelta:
        minutes = self.settings.cooldown_minutes_by_source.get(source, self.settings.cooldown_minutes)
        return timedelta(minutes=minutes)

    def _load(self, cur: duckdb.DuckDBPyConnection, now: datetime) -> None:
        longest = max([self.settings.cooldown_minutes, *self.settings.cooldown_minutes_by_source.values()])
        sql = sqlfiles.Statements(cur)
        for row in sql.rows("alerts/load_state", {"since": now - timedelta(minutes=longest), "now": now}):
            state = _State(*row)
            self._state[(state.source, state.subject)] = state
        for source, created_at in sql.rows("alerts/recent_sent", {"since": now - self.window, "now": now}):
            self._breakers.setdefault(source, _Breaker()).sent.append(created_at)
        self._loaded = True

    def merge_state(self, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Take (source, subject) states (alerts/load_state's columns) fired elsewhere, where newer than ours;
        the rows taken."""
        taken = []
        for row in rows:
            state = _State(*row)
            mine = self._state.get((state.source, state.subject))
            if mine is None or (state.last_fired_at, state.last_seen_at) > (mine.last_fired_at, mine.last_seen_at):
                self._state[(state.source, state.subject)] = state
                taken.append(row)
        return taken

    def dispatch(
        self, cur: duckdb.DuckDBPyConnection, candidates: list[AlertCandidate], now: datetime
    ) -> DispatchReport:
        """Store the alerts ``candidates`` give rise to (in the caller's transaction); deliver() after commit."""
        if not self._loaded:
            self._load(cur, now)
        report = DispatchReport()
        touched: dict[tuple[str, str], _State] = {}
        fresh: dict[str, list[AlertCandidate]] = {}
        for candidate in _strongest_per_key(candidates):
            key = (candidate.source, candidate.subject)
            state = self._state.get(key)
            if (
                state is not None
                and now - state.last_fired_at < self.cooldown(candidate.source)
                and SEVERITY_RANK[candidate.severity] <= SEVERITY_RANK[state.last_severity]
            ):
                state.suppressed += 1
                state.last_seen_at = now
                touched[key] = state
                report.suppressed += 1
                continue
            fresh.setdefault(candidate.source, []).append(candidate)

        plan: list[_Planned] = []
        for source in sorted(set(fresh) | {s for s, b in self._breakers.items() if b.open_until}):
            self._plan_source(source, fresh.get(source, []), now, plan)
        if plan:
            ids = (self.id_source(len(plan)) if self.id_source is not None else
                   [int(r[0]) for r in sqlfiles.Statements(cur).rows("alerts/next_alert_ids", {"n": len(plan)})])
            self._resolve_summary_ids(plan, ids)
            rows = []
            for planned, alert_id in zip(plan, ids, strict=True):
                alert = self._stored(planned, alert_id, ids, now)
                rows.append(alert)
                (report.held if planned.status == "held" else report.sent).append(alert)
                if alert.subject != SUMMARY_SUBJECT:
                    key = (alert.source, alert.subject)
                    state = _State(alert.source, alert.subject, alert_id, now, alert.severity, 0, now)
                    self._state[key] = state
                    touched[key] = state
            frame = pd.DataFrame([{
                "alert_id": a.alert_id, "created_at": a.created_at, "source": a.source, "subject": a.subject,
                "severity": a.severity, "title": a.title, "payload": json.dumps(a.payload),
                "delivery_status": a.delivery_status, "last_error": None, "summary_alert_id": a.summary_alert_id,
            } for a in rows])
            frame["summary_alert_id"] = frame["summary_alert_id"].astype("Int64")
            frame["last_error"] = frame["last_error"].astype("string")
            _with_relation(cur, "new_alerts", frame, "alerts/insert_alerts")
            report.written["new_alerts"] = frame
        if touched:
            frame = pd.DataFrame([vars(s) for s in touched.values()])
            _with_relation(cur, "alert_state_updates", frame, "alerts/upsert_state")
            report.written["alert_state_updates"] = frame
        return report

    def deliver(self, report: DispatchReport) -> None:
        """Log every stored alert and hand the ones to send to the webhook sink (call after the commit)."""
        for alert in report.sent:
            level = logging.ERROR if alert.severity == "critical" else logging.WARNING
            log.log(level, "ALERT #%d [%s] %s/%s: %s", alert.alert_id, alert.severity, alert.source, alert.subject,
                    alert.title)
            if self.sink is not None:
                self.sink.submit(alert.alert_id, alert.payload)
        for alert in report.held:
            log.debug("held #%d (%s/%s) in summary #%s", alert.alert_id, alert.source, alert.subject,
                      alert.summary_alert_id)

    def _plan_source(self, source: str, fresh: list[AlertCandidate], now: datetime, plan: list[_Planned]) -> None:
        breaker = self._breakers.setdefault(source, _Breaker())
        if breaker.open_until is not None and now >= breaker.open_until:
            if breaker.held_since_summary:
                plan.append(_Planned(self._follow_up(source, breaker), "sent"))
            self._breakers[source] = breaker = _Breaker()
        while breaker.sent and breaker.sent[0] <= now - self.window:
            breaker.sent.popleft()
        if not fresh:
            return
        if breaker.open_until is not None:
            breaker.open_until = now + self.window
            breaker.held_since_summary += len(fresh)
            breaker.groups_since_summary.update(c.group or c.title for c in fresh)
            room = SAMPLE_SIZE - len(breaker.sample_since_summary)
            breaker.sample_since_summary += [{"subject": c.subject, "title": c.title} for c in fresh[:max(room, 0)]]
            breaker.severity_since_summary = _max_severity(
                [breaker.severity_since_summary, *(c.severity for c in fresh)]
            )
            plan.extend(_Planned(c, "held", summary_index=-1) for c in fresh)  # -1: the open summary
            return
        if len(breaker.sent) + len(fresh) > self.settings.flood_threshold:
            breaker.open_until = now + self.window
            summary_index = len(plan)
            plan.append(_Planned(self._summary(source, fresh, len(breaker.sent)), "sent"))
            plan.extend(_Planned(c, "held", summary_index=summary_index) for c in fresh)
            return
        plan.extend(_Planned(c, "sent") for c in fresh)
        breaker.sent.extend([now] * len(fresh))

    def _resolve_summary_ids(self, plan: list[_Planned], ids: list[int]) -> None:
        for index, planned in enumerate(plan):
            if planned.candidate.subject == SUMMARY_SUBJECT and planned.candidate.details.get("opens_breaker"):
                breaker = self._breakers[planned.candidate.source]
                breaker.summary_alert_id = ids[index]

    def _stored(self, planned: _Planned, alert_id: int, ids: list[int], now: datetime) -> StoredAlert:
        c = planned.candidate
        summary_id = None
        if planned.status == "held":
            summary_id = (ids[planned.summary_index] if planned.summary_index is not None
                          and planned.summary_index >= 0 else self._breakers[c.source].summary_alert_id)
        payload = {
            "alert_id": alert_id, "created_at": jsonable(now), "source": c.source, "subject": c.subject,
            "severity": c.severity, "title": c.title, "details": c.details, "text": alert_text(alert_id, c),
        }
        payload = jsonable(payload)
        if planned.status == "held":
            status = "held"
        else:
            status = "pending" if self.sink is not None else "logged"
        return StoredAlert(alert_id, now, c.source, c.subject, c.severity, c.title, payload, status, summary_id)

    def _summary(self, source: str, held: list[AlertCandidate], already_sent: int) -> AlertCandidate:
        minutes = self.settings.flood_window_minutes
        return AlertCandidate(
            source=source, subject=SUMMARY_SUBJECT, severity=_max_severity(c.severity for c in held),
            title=(f"Circuit breaker: {len(held):,} {source} alerts held back "
                   f"(over {self.settings.flood_threshold} in {minutes:g} min)"),
            details={
                "opens_breaker": True, "held": len(held), "sent_in_window_before": already_sent,
                "threshold": self.settings.flood_threshold, "window_minutes": minutes,
                "by_group": dict(Counter(c.group or c.title for c in held).most_common()),
                "sample": [{"subject": c.subject, "title": c.title} for c in held[:SAMPLE_SIZE]],
            },
            group="summary",
        )

    def _follow_up(self, source: str, breaker: _Breaker) -> AlertCandidate:
        return AlertCandidate(
            source=source, subject=SUMMARY_SUBJECT, severity=breaker.severity_since_summary,
            title=(f"Circuit breaker closed: {breaker.held_since_summary:,} more {source} alerts were held back "
                   f"after summary #{breaker.summary_alert_id}"),
            details={
                "follows_summary_alert_id": breaker.summary_alert_id, "held": breaker.held_since_summary,
                "by_group": dict(breaker.groups_since_summary.most_common()),
                "sample": breaker.sample_since_summary,
            },
            group="summary",
        )


def alert_text(alert_id: int, candidate: AlertCandidate) -> str:
    """One line a chat tool shows as it is (the ``text`` of Slack and Mattermost incoming webhooks)."""
    return (f"[{candidate.severity.upper()}] {candidate.title} "
            f"({candidate.source}/{candidate.subject}, alert #{alert_id})")


def _strongest_per_key(candidates: list[AlertCandidate]) -> list[AlertCandidate]:
    """One candidate per (source, subject): the most severe, first seen on ties; order kept."""
    best: dict[tuple[str, str], AlertCandidate] = {}
    for c in candidates:
        key = (c.source, c.subject)
        if key not in best or SEVERITY_RANK[c.severity] > SEVERITY_RANK[best[key].severity]:
            best[key] = c
    return list(best.values())


def _max_severity(severities: Any) -> str:
    return max(severities, key=lambda s: SEVERITY_RANK[s], default="info")


def _with_relation(cur: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame, statement: str) -> None:
    cur.register(name, frame)
    try:
        sqlfiles.Statements(cur).run(statement)
    finally:
        cur.unregister(name)
