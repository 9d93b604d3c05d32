"""The end of a backfill commits in two steps: the rollups (a function of the landed events alone), then the
history and the health. A load stopped between them leaves the health and history as they were, and the
next finish derives what one uninterrupted finish does."""

from __future__ import annotations

from datetime import UTC, datetime
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

END = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
NOW = datetime(2026, 11, 20, 15, 30)  # the model's now, naive UTC
HISTORY = ("select customer_id, snapshot_at, segment, previous_segment, health_score, segment_reason "
           "from health_snapshots order by snapshot_at, customer_id")
STATE = "select customer_id, segment, health_score, margin_90d from health_state order by customer_id"


def landed(tmp_path: Path, name: str) -> tuple[duckdb.DuckDBPyConnection, Settings]:
    files = tmp_path / "events"
    if not files.exists():
        write_jsonl(generate_history(SimulationSettings(customers=60, history_days=45), END), files)
    settings = Settings(db_path=tmp_path / f"{name}.duckdb")
    con = open_owner(settings)
    load_files(load_lander(con, settings), sorted(files.glob("*.jsonl")))
    return con, settings


def test_a_finish_stopped_after_the_rollups_leaves_health_as_it_was_and_the_next_one_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    reference, reference_settings = landed(tmp_path, "reference")
    stopped, settings = landed(tmp_path, "stopped")
    try:
        backfill.finish_backfill(reference, reference_settings, NOW)

        def stop(*_args: object, **_kwargs: object) -> None:
            raise KeyboardInterrupt

        with monkeypatch.context() as patched:
            patched.setattr(backfill, "rebuild_history", stop)
            with pytest.raises(KeyboardInterrupt):
                backfill.finish_backfill(stopped, settings, NOW)
        rollups = "select count(*), sum(visits), sum(charges) from customer_day"
        assert stopped.execute(rollups).fetchall() == reference.execute(rollups).fetchall()
        assert stopped.execute("select count(*) from customer_day").fetchone() != (0,)
        assert stopped.execute("select count(*) from health_snapshots").fetchone() == (0,)
        assert stopped.execute("select count(*) from health_state").fetchone() == (0,)

        backfill.finish_backfill(stopped, settings, NOW)
        assert stopped.execute(HISTORY).fetchall() == reference.execute(HISTORY).fetchall()
        assert stopped.execute(STATE).fetchall() == reference.execute(STATE).fetchall()
        assert len(reference.execute(HISTORY).fetchall()) > 60 * 40
    finally:
        reference.close()
        stopped.close()


def test_rows_derived_ahead_for_other_points_are_refused(tmp_path: Path) -> None:
    con, settings = landed(tmp_path, "ahead")
    try:
        backfill.finish_backfill(con, settings, NOW)
        with pytest.raises(ValueError, match="derived ahead for other points"):
            rebuild_history(con, settings, None, now=NOW, rows_ahead=[NOW])
    finally:
        con.close()
