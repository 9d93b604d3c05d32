"""The model clock: "wall" keeps the wall clock as the model's now; "events" makes it the latest event time
landed, never moving backwards, and every reader's default as-of follows it."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from customer_health.clock import model_now, utc_now
from customer_health.config import ClockSettings, Settings
from customer_health.db import open_owner
from customer_health.errors import UserError
from customer_health.health.interventions import record_intervention
from customer_health.health.queries import health_rows
from customer_health.health.refresh import HealthRefresher
from customer_health.sqlfiles import Statements
from dashboard import queries as dashboard_queries
from ingest.landing import BatchContext, Lander, batch_from_rows
from ingest.plugins import PipelineExtensions
from ingest.service import build_lander
from tests.factories import customer, encode, payment, ticket, visit

T1 = datetime(2026, 3, 10, 18, 30)  # naive UTC
WALL = datetime(2026, 11, 20, 12, 0)


def iso(moment: datetime) -> str:
    return moment.replace(tzinfo=UTC).isoformat()


class Clocked:
    """A database whose lander records every after_land hook's ``now``."""

    def __init__(self, tmp_path: Path, source: str) -> None:
        self.settings = Settings(db_path=tmp_path / "clock.duckdb", clock=ClockSettings(source=source))  # type: ignore[arg-type]
        self.con = open_owner(self.settings)
        self.seen: list[datetime] = []
        hooks = [HealthRefresher(self.settings.health).after_land, self._hook]
        self.lander = Lander(self.con, "g", 65536, after_land=hooks, clock_source=source)
        self.n = 0

    def _hook(self, con: object, ctx: BatchContext) -> None:
        self.seen.append(ctx.now)

    def land(self, *events: tuple[str, dict]) -> None:
        rows = []
        for etype, payload in events:
            self.n += 1
            rows.append((etype, "t.jsonl", self.n, encode(payload)))
        self.lander.land(batch_from_rows(rows), "file:t.jsonl")

    def visit_at(self, moment: datetime, customer_id: str = "c1") -> tuple[str, dict]:
        self.n += 1
        return "visits", visit(f"v{self.n}", customer_id, occurred_at=iso(moment))

    @property
    def db(self) -> Statements:
        return Statements(self.con.cursor())


def test_clock_source_is_a_closed_setting_defaulting_to_wall() -> None:
    assert Settings().clock.source == "wall"
    assert ClockSettings(source="events").source == "events"
    with pytest.raises(ValidationError):
        ClockSettings(source="event")  # type: ignore[arg-type]


def test_the_pipeline_lander_takes_the_clock_source_from_the_settings(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "s.duckdb", clock=ClockSettings(source="events"))
    con = open_owner(settings)
    try:
        assert build_lander(con, settings, PipelineExtensions()).clock_source == "events"
    finally:
        con.close()


def test_wall_clock_model_now_is_the_wall_clock_whatever_the_events(tmp_path: Path) -> None:
    world = Clocked(tmp_path, "wall")
    landing = utc_now()
    world.land(("customers", customer("p1", "c1", occurred_at=iso(T1 - timedelta(days=30)))), world.visit_at(T1))
    assert landing <= world.seen[-1] <= utc_now()  # the hooks' now: the wall clock
    assert model_now(world.db, WALL) == WALL
    before = utc_now()
    assert before <= model_now(world.db) <= utc_now()
    (sql_now,) = world.con.execute("select health_model_now(health_utc_now())").fetchone()
    assert abs((sql_now - utc_now()).total_seconds()) < 5


def test_events_clock_is_the_latest_event_time_and_never_moves_backwards(tmp_path: Path) -> None:
    world = Clocked(tmp_path, "events")
    assert model_now(world.db, WALL) == WALL  # nothing landed yet: the wall clock
    world.land(("customers", customer("p1", "c1", occurred_at=iso(T1 - timedelta(days=30)))),
               world.visit_at(T1 - timedelta(hours=5)), world.visit_at(T1))
    assert model_now(world.db, WALL) == T1
    assert world.seen == [T1]  # after_land hooks (health, churn, alerts) run at the model's now
    world.land(world.visit_at(T1 - timedelta(days=3)))  # a late event
    assert model_now(world.db, WALL) == T1
    world.land(("visits", {"event_id": "broken"}))  # dead letters only
    assert model_now(world.db, WALL) == T1
    later = T1 + timedelta(days=2, minutes=7)
    world.land(world.visit_at(later))
    assert model_now(world.db, WALL) == later
    assert world.seen == [T1, T1, T1, later]
    (sql_now,) = world.con.execute("select health_model_now(health_utc_now())").fetchone()
    assert sql_now == later  # the SQL statements' now too
    assert dashboard_queries.model_now(world.db, WALL)["now"].iloc[0] == later


def test_readers_default_as_of_follows_the_events_clock(tmp_path: Path) -> None:
    world = Clocked(tmp_path, "events")
    world.land(("customers", customer("p1", "c1", occurred_at=iso(T1 - timedelta(days=30)))),
               world.visit_at(T1 - timedelta(days=2)), world.visit_at(T1, customer_id="c2"),
               ("customers", customer("p2", "c2", occurred_at=iso(T1 - timedelta(days=30)))))
    rows = {r["customer_id"]: r for r in health_rows(world.db, world.settings)}
    assert rows["c1"]["days_since_last_visit"] == pytest.approx(2.0)
    assert rows["c2"]["days_since_last_visit"] == pytest.approx(0.0)
    assert rows["c1"]["evaluated"] == "maintained"  # the pipeline's refresh ran at the model's now as well

    (tmp_path / "wall").mkdir()
    wall = Clocked(tmp_path / "wall", "wall")
    wall.land(("customers", customer("p1", "c1", occurred_at=iso(T1 - timedelta(days=30)))),
              wall.visit_at(T1 - timedelta(days=2)))
    (row,) = health_rows(wall.db, wall.settings)
    assert row["days_since_last_visit"] > 200  # as of the wall clock, long after the events


H = datetime(2024, 6, 15, 12, 0)  # the events' time in the view tests: far from the wall clock, naive UTC


def at(days: float) -> str:
    return iso(H - timedelta(days=days))


def view(db: Statements) -> dict[str, dict]:
    cur = db.run("health/customer_now", {"customer_id": None, "segment": None})
    columns = [d[0] for d in cur.description]
    return {r[0]: dict(zip(columns, r, strict=True)) for r in cur.fetchall()}


def test_the_view_decides_next_steps_households_and_win_back_at_the_events_clock(tmp_path: Path) -> None:
    world = Clocked(tmp_path, "events")
    since = "2023-01-01T00:00:00Z"
    world.land(
        *(("customers", customer(f"p-{c}", c, signed_up_at=since, occurred_at=at(200))) for c in ("loss", "fresh")),
        ("payments", payment("lp", "loss", occurred_at=at(3), amount=20, currency="EUR")),
        ("tickets", ticket("lt", "loss", occurred_at=at(2), ticket_id="LT", category="bug", handling_minutes=50)),
        ("payments", payment("fp", "fresh", occurred_at=at(3), amount=20, currency="EUR")),
        ("tickets", ticket("ft", "fresh", occurred_at=at(2), ticket_id="FT", category="bug", handling_minutes=50)),
        ("customers", customer("p-x1", "x1", household_id="H", signed_up_at=since, cancelled_at=at(40),
                               occurred_at=at(40))),
        ("customers", customer("p-x2", "x2", household_id="H", signed_up_at=at(20), occurred_at=at(20))),
        ("customers", customer("p-y1", "y1", signed_up_at=since, occurred_at=at(200))),
        world.visit_at(H, "y1"),
    )
    assert model_now(world.db) == H
    record = Statements(world.con)
    for cid, step, tried in (("loss", "renegotiate", H - timedelta(days=5)), ("x1", "exit", H - timedelta(days=45)),
                             ("y1", "exit", H + timedelta(days=10))):  # y1: an exit after the model's now
        record.run("health/record_intervention", {"customer_id": cid, "step": step, "note": "tried it",
                                                  "recorded_by": "t", "tried_at": tried, "recorded_at": WALL})
    rows = view(world.db)
    assert {r["refreshed_at"] for r in rows.values()} == {H}
    # renegotiate tried 5 model days ago, within retry_after_days (30): not recommended again; as of the wall
    # clock it would be two years old and recommended again, as for the customer who never tried it
    assert rows["loss"]["segment"] == "unprofitable" and rows["loss"]["next_step"] == "readjust"
    assert rows["fresh"]["next_step"] == "renegotiate"
    assert rows["x1"]["segment"] == "churned" and rows["x1"]["next_step"] == "none"
    assert rows["x1"]["win_back_dates"] == [H - timedelta(days=10), H + timedelta(days=140)]
    assert rows["x1"]["exited_at"] == H - timedelta(days=45)
    assert rows["x2"]["household_churned"] == ["x1"] and rows["x2"]["household_churn_flag"] is True
    assert rows["x2"]["returned_after_exit"] is True and rows["x2"]["returned_after_exit_of"] == "x1"
    assert rows["y1"]["exited_at"] is None and rows["y1"]["interventions_tried"] == []

    world.land(world.visit_at(H + timedelta(days=40), "y1"))  # the model's clock moves past both
    rows = view(world.db)
    assert {r["refreshed_at"] for r in rows.values()} == {H + timedelta(days=40)}
    assert rows["loss"]["next_step"] == "renegotiate"  # 45 model days since it was tried
    assert rows["y1"]["exited_at"] == H + timedelta(days=10)


def test_an_intervention_is_tried_at_the_model_now_by_default(tmp_path: Path) -> None:
    world = Clocked(tmp_path, "events")
    world.land(("customers", customer("p1", "c1", signed_up_at="2023-01-01T00:00:00Z", occurred_at=at(30))),
               world.visit_at(H))
    world.con.close()
    done = record_intervention(world.settings, "c1", "educate", "walked them through the guide", "tester")
    assert done.tried_at == H and done.recorded_at > WALL - timedelta(days=1)
    with pytest.raises(UserError, match="is in the future"):
        record_intervention(world.settings, "c1", "migrate", "moved them to prepaid billing", "tester",
                            tried_at=H + timedelta(hours=1))
    con = open_owner(world.settings)
    try:
        (row,) = view(Statements(con)).values()
        assert [t["step"] for t in row["interventions_tried"]] == ["educate"]
    finally:
        con.close()


def test_churn_model_fit_defaults_to_the_events_clock(tmp_path: Path) -> None:
    world = Clocked(tmp_path, "events")
    events = [("customers", customer(f"p-{c}", c, signed_up_at="2023-06-01T00:00:00Z", occurred_at=at(400)))
              for c in ("a", "b", "c", "d")]
    events += [("payments", payment(f"pay-{c}-{k}", c, occurred_at=at(15 * k + i), amount=30, currency="EUR"))
               for i, c in enumerate(("a", "b", "c", "d")) for k in range(i, 20, i + 1)]
    world.land(*events, world.visit_at(H, "a"))
    world.con.close()

    def fit(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "customer_health.cli", "churn-model", "fit", "--db",
                               str(world.settings.db_path), *args], capture_output=True, text=True, timeout=120,
                              check=False)

    done = fit("--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert (doc["as_of"], doc["window_end"]) == ("2024-06-15T12:00:00Z", "2024-06-15")  # not the wall clock's day
    con = open_owner(world.settings)
    try:  # the rescoring's health refresh ran at the model's now too
        assert con.execute("select distinct as_of from health_state").fetchall() == [(H,)]
        assert con.execute("select reason from health_refreshes order by refresh_id desc limit 1").fetchone() == \
            ("churn_fit",)
    finally:
        con.close()
    late = fit("--as-of", "2024-06-16")
    assert late.returncode == 1 and "is in the future" in late.stderr and "today is 2024-06-15" in late.stderr
