"""The end of a backfill commits in two steps: the rollups (a function of the landed events alone), then the
history and the health. A load stopped between them leaves the health and history as they were, and the
next finish derives what one uninterrupted finish does."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from customer_health.composition import load_lander
from customer_health.config import Settings
from customer_health.db import open_owner
from customer_health.health import backfill
from customer_health.health.history import rebuild_history
from customer_health.simulate import SimulationSettings, generate_history, write_jsonl
from ingest.files import load_files
from ingest.landing import batch_from_rows
from tests.factories import customer, encode, payment

END = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
NOW = datetime(2026, 11, 20, 15, 30)  # the model's now, naive UTC
HISTORY = ("select customer_id, snapshot_at, segment, previous_segment, health_score, segment_reason "
           "from health_snapshots order by snapshot_at, customer_id")
STATE = "select customer_id, segment, health_score, margin_90d from health_state order by customer_id"


def events(tmp_path: Path) -> dict[str, Path]:
    directory = tmp_path / "events"
    if not directory.exists():
        write_jsonl(generate_history(SimulationSettings(customers=60, history_days=45), END), directory)
    return {path.stem: path for path in directory.glob("*.jsonl")}


def landed(tmp_path: Path, name: str, types: tuple[str, ...] = ("customers", "visits", "tickets", "payments"),
           ) -> tuple[duckdb.DuckDBPyConnection, Settings]:
    settings = Settings(db_path=tmp_path / f"{name}.duckdb")
    con = open_owner(settings)
    land(con, settings, tmp_path, types)
    return con, settings


def land(con: duckdb.DuckDBPyConnection, settings: Settings, tmp_path: Path, types: tuple[str, ...]) -> None:
    load_files(load_lander(con, settings), [events(tmp_path)[t] for t in types])


def test_a_finish_stopped_after_the_rollups_leaves_health_as_it_was_and_the_next_one_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    reference, reference_settings = landed(tmp_path, "reference")
    stopped, settings = landed(tmp_path, "stopped", ("customers", "visits"))
    try:
        backfill.finish_backfill(reference, reference_settings, NOW)
        backfill.finish_backfill(stopped, settings, NOW)  # a first load: profiles and visits
        before = stopped.execute(HISTORY).fetchall(), stopped.execute(STATE).fetchall()
        assert len(before[0]) > 60 * 40 and len(before[1]) == 60
        land(stopped, settings, tmp_path, ("tickets", "payments"))  # a second load, stopped in its finish

        def stop(*_args: object, **_kwargs: object) -> None:
            raise KeyboardInterrupt

        with monkeypatch.context() as patched:
            patched.setattr(backfill, "rebuild_history", stop)
            with pytest.raises(KeyboardInterrupt):
                backfill.finish_backfill(stopped, settings, NOW)
        rollups = "select count(*), sum(visits), sum(charges), sum(tickets_opened) from customer_day"
        assert stopped.execute(rollups).fetchall() == reference.execute(rollups).fetchall()
        assert (stopped.execute(HISTORY).fetchall(), stopped.execute(STATE).fetchall()) == before
        assert stopped.execute("select count(*) from health_history_dirty").fetchone() == (1,)

        backfill.finish_backfill(stopped, settings, NOW)
        assert stopped.execute(HISTORY).fetchall() == reference.execute(HISTORY).fetchall()
        assert stopped.execute(STATE).fetchall() == reference.execute(STATE).fetchall()
        assert stopped.execute("select count(*) from health_history_dirty").fetchone() == (0,)
    finally:
        reference.close()
        stopped.close()


def test_a_customers_money_over_its_whole_history_may_exceed_what_its_90_days_hold(tmp_path: Path) -> None:
    """Two charges of 6e13 (each fits decimal(18, 4)) 100 days apart: the grid's running total holds 1.2e14.
    (The batch suites quarantine such amounts by default; with them off, the contract lands them.)"""
    settings = Settings(db_path=tmp_path / "big.duckdb").with_overrides(quality__batch_suites=False)
    con = open_owner(settings)
    try:
        rows = [
            ("customers", "f", 1, encode(customer("p1", "whale", occurred_at="2026-07-01T00:00:00Z"))),
            ("payments", "f", 2, encode(payment("b1", "whale", occurred_at="2026-07-20T10:00:00Z", amount="6e13"))),
            ("payments", "f", 3, encode(payment("b2", "whale", occurred_at="2026-10-28T10:00:00Z", amount="6e13"))),
        ]
        result = load_lander(con, settings).land(batch_from_rows(rows), "file:f")
        assert result.landed == 3
        backfill.finish_backfill(con, settings, NOW)
        assert con.execute("select charges_90d from health_state").fetchone() == (Decimal("60000000000000"),)
        at_points = con.execute("select max(revenue_90d) from health_snapshots").fetchone()
        assert at_points is not None and at_points[0] == pytest.approx(6e13)
    finally:
        con.close()


def test_rows_derived_ahead_for_other_points_are_refused(tmp_path: Path) -> None:
    con, settings = landed(tmp_path, "ahead")
    try:
        backfill.finish_backfill(con, settings, NOW)
        with pytest.raises(ValueError, match="derived ahead for other points"):
            rebuild_history(con, settings, None, now=NOW, rows_ahead=[NOW])
    finally:
        con.close()
