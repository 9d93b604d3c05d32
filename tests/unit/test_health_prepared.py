"""The health refresh of a batch runs its statements prepared (customer_health.sqlfiles.Statements)
without changing the catalog, so DuckDB never has to plan them again; on a real DuckDB file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from customer_health import sqlfiles
from customer_health.health.refresh import _BATCH_TABLES, HealthRefresher
from tests.health_world import AS_OF, World, ago, charge, ordinary_portfolio, profile, seen, tick

# Every statement a refresh runs through the pipeline's prepared statements (the incremental path).
BATCH_STATEMENTS = [
    "health/batch_context", "health/batch_facts", "health/upsert_escalations", "health/rollup_batch",
    "health/upsert_invoices", "health/refresh_status", "health/drop_changed_open_invoices",
    "health/apply_changed_invoices", "health/compute_touched", "health/refreshed_counts", "health/history_mark_dirty",
    "health/history_status",
    "health/write_segment_changes", "health/retract_segment_changes", "health/late_customers", "health/late_facts",
    "health/delete_state", "health/write_state", "health/record_refresh",
]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path)
    yield w
    w.close()


def refresh(world: World, batch_id: int, statements: sqlfiles.Statements) -> None:
    statements.check_catalog()  # as the lander does before each batch: landing it may have changed the catalog
    world.con.execute("begin")
    result = world.refresher.refresh_batch(world.con, batch_id, AS_OF, statements)
    world.con.execute("commit")
    assert result.kind == "incremental" or batch_id == 1


def busy_batch(n: int) -> list:
    """Events that take every branch of an incremental refresh: facts, an escalation, a changed invoice."""
    return [
        seen(f"v{n}", "o1", ago(hours=n)),
        tick(f"t{n}", "o2", ago(hours=n), f"T{n}", "complaint", 5, escalated=True),
        charge(f"p{n}", "o3", ago(hours=n), 20),
        seen(f"w{n}", f"new-{n}", ago(hours=n)),
    ]


def test_every_batch_statement_is_one_statement_with_typed_parameters() -> None:
    for name in BATCH_STATEMENTS:
        sqlfiles.parameter_types(name)  # raises on a parameter without its type
        # PREPARE takes one statement: any further one would run right away, once, when it is prepared
        assert len(duckdb.extract_statements(sqlfiles.statement(name))) == 1, name


def test_a_batch_refresh_changes_no_catalog_and_prepares_nothing_after_the_first(world: World) -> None:
    statements = sqlfiles.Statements(world.con)
    refresh(world, world.land(*ordinary_portfolio()), statements)  # the first: a full refresh
    refresh(world, world.land(*busy_batch(1)), statements)
    refresh(world, world.land(*busy_batch(2)), statements)  # an hour before the last: late, the paths derived again
    statements.check_catalog()
    prepared = statements.prepares
    assert set(statements._on_con.handles) >= set(BATCH_STATEMENTS)

    batch_id = world.land(*busy_batch(3))
    # Catalog entries take their oids from one counter: the refresh creates none, not even briefly (a table
    # created and dropped within it would have DuckDB plan every prepared statement again until
    # check_catalog saw it). The refresh's ids come from sequences, which take no oids.
    probe = -_next_catalog_oid(world.con) + _next_catalog_oid(world.con)
    before = _next_catalog_oid(world.con)
    refresh(world, batch_id, statements)
    assert _next_catalog_oid(world.con) == before + probe
    assert statements.check_catalog() is False
    assert statements.prepares == prepared
    assert world.con.execute("select count(*) from health_refreshes where batch_id = ?", [batch_id]).fetchone() == (1,)


def test_the_batch_tables_are_empty_after_a_refresh_and_never_hold_committed_rows(world: World) -> None:
    statements = sqlfiles.Statements(world.con)
    refresh(world, world.land(*ordinary_portfolio()), statements)
    for n in range(1, 4):
        refresh(world, world.land(*busy_batch(n)), statements)
    for table in _BATCH_TABLES:
        assert world.con.execute(f"select count(*) from temp.{table}").fetchone() == (0,), table
        # Rows a later transaction deletes stay in a temporary table's storage for good (and every scan
        # reads past them): a refresh empties the tables in its own transaction, so none are committed.
        assert world.con.execute(f"select count(*) from pragma_storage_info('{table}')").fetchone() == (0,), table


def test_a_refresh_after_a_rolled_back_first_one_creates_the_batch_tables_again(world: World) -> None:
    statements = sqlfiles.Statements(world.con)
    first = world.land(*ordinary_portfolio())
    world.con.execute("begin")
    world.refresher.refresh_batch(world.con, first, AS_OF, statements)
    world.con.execute("rollback")  # takes the batch tables created in it along
    tables = "select count(*) from duckdb_tables() where database_name = 'temp' and table_name like 'health_%'"
    assert world.con.execute(tables).fetchone() == (0,)
    refresh(world, first, statements)
    refresh(world, world.land(*busy_batch(1)), statements)
    assert world.con.execute(tables).fetchone() == (len(_BATCH_TABLES),)
    assert world.con.execute("select count(*) from health_state").fetchone() == (6,)


def test_prepared_and_planned_refreshes_store_the_same_health(tmp_path: Path) -> None:
    worlds = {kind: World(tmp_path / kind) for kind in ("prepared", "planned")}
    try:
        runners: dict[str, sqlfiles.Statements] = {
            "prepared": sqlfiles.Statements(worlds["prepared"].con),
            "planned": sqlfiles.Statements(worlds["planned"].con, prepare=False),
        }
        for kind, w in worlds.items():
            # Prepared on short customer ids and few rows, then run on longer ids and more rows: a plan must
            # not keep what the tables held when it was prepared.
            refresh(w, w.land(*ordinary_portfolio()), runners[kind])
            refresh(w, w.land(*busy_batch(1)), runners[kind])
            long_ids = ("a-customer-with-a-much-longer-id", "another-customer-with-a-long-id")
            refresh(w, w.land(*busy_batch(2), *(profile(cid, occurred_at=ago(hours=4)) for cid in long_ids),
                              seen("v-long", long_ids[0], ago(hours=1)),
                              tick("t-long", long_ids[1], ago(hours=2), "T-long", "legal_threat", 30, escalated=True),
                              charge("p-long", long_ids[1], ago(hours=3), 12345.5, "USD")), runners[kind])
        state = {kind: w.maintained() for kind, w in worlds.items()}
        assert "a-customer-with-a-much-longer-id" in state["planned"]
        assert state["prepared"].keys() == state["planned"].keys()
        for cid, row in state["planned"].items():
            assert state["prepared"][cid] == row, cid
    finally:
        for w in worlds.values():
            w.close()


def test_full_refresh_keeps_the_batch_tables_and_refills_them(world: World) -> None:
    refresher: HealthRefresher = world.refresher
    world.land_and_refresh(*ordinary_portfolio())
    for _ in range(2):
        world.full_refresh()
    assert world.con.execute("select count(*) from temp.health_refreshed").fetchone() == (0,)
    assert world.con.execute("select count(*) from health_state").fetchone() == (5,)
    assert refresher.full_refresh_reason(world.con, AS_OF) is None


def _next_catalog_oid(con: duckdb.DuckDBPyConnection) -> int:
    """The oid the next catalog entry gets (read by creating one on a cursor of its own, then dropping it)."""
    with con.cursor() as cur:
        cur.execute("create temp table oid_probe (x integer)")
        oid = cur.execute("select table_oid from duckdb_tables() where table_name = 'oid_probe'").fetchone()[0]
        cur.execute("drop table oid_probe")
    return oid
