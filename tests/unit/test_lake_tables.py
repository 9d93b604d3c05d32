"""Which tables the lake holds: one statement (sql/statements/lake/tables.sql), read through ingest.lake.lake_tables
by the log, the alerts and the interventions; no Python module asks the catalog itself."""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingest.lake import lake_tables

REPO = Path(__file__).resolve().parents[2]


def test_the_lake_tables_are_those_of_the_database_attached_as_lake_only() -> None:
    con = duckdb.connect()
    con.execute("attach ':memory:' as lake")
    assert lake_tables(con) == set()
    con.execute("create table lake.alert_log (alert_id bigint)")
    con.execute("create table lake.raw_messages (raw blob)")
    con.execute("create table main_table (x integer)")
    assert lake_tables(con) == {"alert_log", "raw_messages"}


def test_no_python_module_asks_the_catalog_for_the_lake_tables_itself() -> None:
    sources = [p for root in ("customer_health", "ingest", "dashboard") for p in (REPO / root).rglob("*.py")]
    assert sources
    asking = [str(p.relative_to(REPO)) for p in sources if "duckdb_tables()" in p.read_text(encoding="utf-8")]
    assert asking == [], "the lake's tables come from sql/statements/lake/tables.sql (ingest.lake.lake_tables)"
