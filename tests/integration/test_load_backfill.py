"""`customer-health load` is a backfill: batches land in bulk, health and its history are derived once at the
end, so a partly landed load leaves no trace (no transient segment change, no snapshot of half the data), and
the summary accounts for every row."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from tests.conftest import Env
from tests.factories import encode, payment, visit


def read(env: Env, sql: str) -> list[tuple]:
    with duckdb.connect(str(env.db_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def simulated_files(env: Env, tmp_path: Path) -> dict[str, Path]:
    out = tmp_path / "events"
    result = env.cli("simulate", "--customers", "80", "--history-days", "60", "--no-live", "--jsonl", str(out))
    assert result.returncode == 0, result.stderr
    return {p.stem: p for p in out.glob("*.jsonl")}


def test_a_load_whose_tickets_land_before_visits_records_no_intermediate_state(env: Env, tmp_path: Path) -> None:
    files = simulated_files(env, tmp_path)
    # Profiles first, then every ticket before any visit or payment: landed batch by batch, customers would
    # look like complainers with no engagement until the last file.
    order = [files["customers"], files["tickets"], files["visits"], files["payments"]]
    result = env.cli("load", *map(str, order), "--json", timeout=180)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["landed"] > 1000
    # One refresh: every customer's first segment once, at the last history point (what the points say, no
    # intermediate state), then the changes of the last day's path only (in event time), never a change and back.
    assert read(env, "select count(*), count(distinct customer_id), count(*) filter (where from_segment is not null) "
                     "from segment_changes where changed_at <= (select max(snapshot_at) from health_snapshots)") == \
        [(80, 80, 0)]
    assert read(env, "select count(*) from segment_changes where changed_at < (select max(snapshot_at) "
                     "from health_snapshots)") == [(0,)]
    assert read(env, "select count(*) from segment_changes a join segment_changes b using (customer_id) "
                     "where b.changed_at > a.changed_at and a.from_segment = b.to_segment") == [(0,)]
    assert read(env, "select kind, count(*) from health_refreshes group by 1") == [("full", 1)]
    # The history holds the points of the whole load, each what `customers --as-of` says at its time: none
    # of them is a snapshot of half the data.
    points = [p for (p,) in read(env, "select distinct as_of from health_history order by 1")]
    assert len(points) >= 55
    for at in (points[0], points[len(points) // 2], points[-1]):
        stored = dict(read(env, f"select customer_id, segment from health_history where as_of = '{at}'"))
        listed = env.cli("customers", "--as-of", at.isoformat(), "--json")
        assert listed.returncode == 0, listed.stderr
        assert stored == {r["customer_id"]: r["segment"] for r in json.loads(listed.stdout)}, at
    # Nothing was recorded for alerts to pick up in between: the churn scores exist once the fit does.
    assert read(env, "select count(*) from churn_fading") == [(0,)]


def test_a_second_load_of_the_same_files_changes_nothing(env: Env, tmp_path: Path) -> None:
    files = simulated_files(env, tmp_path)
    assert env.cli("load", *map(str, files.values())).returncode == 0
    before = read(env, "select customer_id, segment, health_score from health_state order by 1")
    again = env.cli("load", *map(str, files.values()), "--json")
    totals = json.loads(again.stdout)
    assert totals["landed"] == 0 and totals["duplicates"] == totals["rows"] > 0
    assert read(env, "select customer_id, segment, health_score from health_state order by 1") == before
    assert read(env, "select count(*) from health_refreshes") == [(1,)]


def test_the_summary_and_status_account_for_every_row(env: Env, tmp_path: Path) -> None:
    path = tmp_path / "payments.jsonl"
    path.write_bytes(b"\n".join([
        encode(payment("p1")), encode(payment("p2", amount=9e9)), b"{broken", encode(payment("p1")),
        encode(payment("p3")),
    ]) + b"\n")
    visits = tmp_path / "visits.jsonl"
    visits.write_bytes(encode(visit("v1")) + b"\n")
    result = env.cli("load", str(path), str(visits), "--json")
    assert result.returncode == 0, result.stderr
    totals = json.loads(result.stdout)
    assert totals == {"rows": 6, "landed": 3, "duplicates": 1, "dead_lettered": 1, "already_dead_lettered": 0,
                      "quarantined": 1}
    assert totals["rows"] == totals["landed"] + totals["duplicates"] + totals["dead_lettered"] + totals["quarantined"]
    text = env.cli("load", str(path))  # loaded again: its bad row is known, not dead-lettered again
    assert text.returncode == 0, text.stderr
    assert text.stdout.strip() == ("5 rows: 0 landed, 3 duplicates, 0 dead-lettered, 1 bad row already dead-lettered "
                                   "by an earlier load, 1 quarantined")
    status = env.cli("status", "--json")
    assert status.returncode == 0, status.stderr
    document = json.loads(status.stdout)
    assert document["duplicates"] == 4
    assert document["quarantined"] == {"total": 2, "by_type": {"payments": 2}}
    assert document["dead_letter"]["total"] == 1
    shown = env.cli("status").stdout
    assert "duplicates:   4" in shown and "quarantined:  2 (payments 2)" in shown


def test_rows_a_stopped_load_landed_are_derived_by_the_next_load_even_when_it_lands_nothing(
    env: Env, tmp_path: Path,
) -> None:
    good = tmp_path / "payments.jsonl"
    good.write_bytes(b"\n".join(encode(payment(f"p{i}", customer_id=f"c{i % 3}")) for i in range(6)) + b"\n")
    unreadable = tmp_path / "visits.csv"  # a row with more fields than the header: the load stops there
    unreadable.write_text("event_id,customer_id,occurred_at,session_id,channel,duration_seconds\n"
                          "v1,c1,2026-11-01T09:00:00Z,s,web,30,EXTRA\n")
    stopped = env.cli("load", str(good), str(unreadable))
    assert stopped.returncode == 1 and "Expected Number of Columns" in stopped.stderr
    assert read(env, "select count(*) from payments") == [(6,)]
    assert read(env, "select count(*) from health_state") == [(0,)]  # landed, not derived
    again = env.cli("load", str(good), "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["landed"] == 0
    assert read(env, "select count(*) from health_refreshes") == [(1,)]
    assert read(env, "select customer_id from health_state order by 1") == [("c0",), ("c1",), ("c2",)]
    assert env.cli("load", str(good)).returncode == 0  # derived now: a load that lands nothing changes nothing
    assert read(env, "select count(*) from health_refreshes") == [(1,)]
