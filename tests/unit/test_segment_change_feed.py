"""The alerts' feed of segment changes (segment_changes) as the refresh writes it and the alerts read it."""

from __future__ import annotations

from datetime import datetime, timedelta

from customer_health.config import Settings
from customer_health.db import open_working_store
from customer_health.sqlfiles import Statements

T0 = datetime(2026, 11, 20, 0, 0)
COLUMNS = ("customer_id, changed_at, from_segment, to_segment, health_score, drifting_toward, days_to_threshold, "
           "batch_id, refresh_kind, change_seq")


def test_the_alerts_read_on_past_deleted_changes_after_a_checkpoint() -> None:
    # A refresh retracts the changes it no longer derives; once DuckDB checkpoints, the rowids of deleted rows are
    # given out again, so a cursor on rowid would fall behind the table's end and skip (or re-read) changes.
    con = open_working_store(Settings(store="ducklake"))
    run = Statements(con, prepare=False)
    con.execute(f"insert into segment_changes ({COLUMNS}) select 'old' || i, ?, 'healthy', 'at_risk', 50, null, "
                "null, 1, 'incremental', nextval('segment_change_seq') from range(300000) t(i)", [T0])
    cursor = int(run.row("alerts/max_segment_change")[0])
    con.execute("delete from segment_changes where customer_id < 'old7'")
    con.execute("checkpoint")
    con.execute(f"insert into segment_changes ({COLUMNS}) values ('new', ?, 'healthy', 'terrorist', 20, null, null, 2, "
                "'incremental', nextval('segment_change_seq'))", [T0 + timedelta(hours=1)])
    upto = int(run.row("alerts/max_segment_change")[0])
    assert upto > cursor
    news = run.rows("alerts/segment_net_changes", {"after": cursor, "upto": upto})
    assert [(r[0], r[2], r[3]) for r in news] == [("new", "healthy", "terrorist")]


def test_a_final_steps_change_found_again_later_keeps_its_first_time_and_row() -> None:
    # A change of time alone (the final step at the refresh's as_of, no event) found by two refreshes an hour
    # apart is one change, at the time it was first found: not retracted and written again (news twice).
    con = open_working_store(Settings(store="ducklake"))
    run = Statements(con, prepare=False)
    run.run("health/batch_tables")
    first, later = T0 + timedelta(hours=9), T0 + timedelta(hours=10)
    con.execute(f"insert into segment_changes ({COLUMNS}) values ('c', ?, 'healthy', 'at_risk', 38, null, null, 1, "
                "'incremental', nextval('segment_change_seq'))", [first])
    stored = con.execute("select changed_at, change_seq from segment_changes").fetchall()
    con.execute("insert into health_refreshed by name select 'c' as customer_id, ?::timestamp as as_of, 38.0 as "
                "health_score, 'incremental' as refreshed_by, true as segment_changed, ?::timestamp as retract_from, "
                "[{'changed_at': ?::timestamp, 'from_segment': 'healthy', 'to_segment': 'at_risk'}] as new_changes",
                [later, T0 + timedelta(microseconds=1), later])
    run.run("health/write_segment_changes", {"batch_id": 2})
    run.run("health/retract_segment_changes")
    assert con.execute("select changed_at, change_seq from segment_changes").fetchall() == stored
    # A different move at the later refresh replaces it.
    con.execute("update health_refreshed set new_changes = [{'changed_at': ?::timestamp, 'from_segment': 'healthy', "
                "'to_segment': 'unprofitable'}]", [later])
    run.run("health/write_segment_changes", {"batch_id": 3})
    run.run("health/retract_segment_changes")
    assert con.execute("select changed_at, to_segment from segment_changes").fetchall() == [(later, "unprofitable")]
