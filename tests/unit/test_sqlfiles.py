"""Statements prepared once per connection (customer_health.sqlfiles), on a real DuckDB."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from customer_health import sqlfiles
from customer_health.config import EVENT_TYPES, Settings
from customer_health.db import open_owner
from ingest.landing import BATCH_TABLES, Lander, RawBatch
from tests.factories import BAD_MESSAGES, encode, payment, ticket, visit


@pytest.fixture
def statements(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> sqlfiles.Statements:
    root = tmp_path / "sql"
    (root / "statements" / "t").mkdir(parents=True)
    (root / "statements" / "prepared").mkdir()
    for probe in ("catalog_probe_table", "catalog_probe_tables"):
        (root / "statements" / "prepared" / f"{probe}.sql").write_text(sqlfiles.statement(f"prepared/{probe}"))
    for name, sql in {
        "insert": "insert into items select $id::BIGINT, $label::VARCHAR, $seen_at::TIMESTAMP",
        "count": "select count(*) from items",
        "bare": "select * from items where id = $id",
        "mixed": "select $id::BIGINT, $id::VARCHAR",
        "two": "select 1; select 2",
        "labels": "select label, count(*) from items a join items b using (label) group by all order by 1",
    }.items():
        (root / "statements" / "t" / f"{name}.sql").write_text(
            f"{sqlfiles.PREPARED_MARK}\n-- $commented_out is no parameter\n{sql};\n")
    monkeypatch.setattr(sqlfiles, "SQL_ROOT", root)
    monkeypatch.setattr(sqlfiles, "statement", _uncached(root))
    sqlfiles.parameter_types.cache_clear()
    sqlfiles.is_prepared.cache_clear()
    con = duckdb.connect()
    con.execute("create table items (id bigint, label varchar, seen_at timestamp)")
    yield sqlfiles.Statements(con)
    sqlfiles.parameter_types.cache_clear()
    sqlfiles.is_prepared.cache_clear()
    con.close()


def _uncached(root: Path):
    return lambda name: (root / "statements" / f"{name}.sql").read_text()


def test_a_statement_is_prepared_once_and_runs_with_typed_arguments(statements: sqlfiles.Statements) -> None:
    for i, label in enumerate(["plain", "it's quoted", None]):
        statements.run("t/insert", {"id": i, "label": label, "seen_at": datetime(2026, 11, 25, 10, 0, i)})
    assert statements.prepares == 1
    assert statements.con.execute("select * from items order by id").fetchall() == [
        (0, "plain", datetime(2026, 11, 25, 10, 0, 0)),
        (1, "it's quoted", datetime(2026, 11, 25, 10, 0, 1)),
        (2, None, datetime(2026, 11, 25, 10, 0, 2)),
    ]


def test_parameters_need_one_declared_type(statements: sqlfiles.Statements) -> None:
    assert sqlfiles.parameter_types("t/insert") == {"id": "BIGINT", "label": "VARCHAR", "seen_at": "TIMESTAMP"}
    with pytest.raises(ValueError, match=r"\$id needs a type"):
        statements.run("t/bare", {"id": 1})
    with pytest.raises(ValueError, match=r"\$id is cast to BIGINT and to VARCHAR"):
        statements.run("t/mixed", {"id": 1})
    with pytest.raises(KeyError, match=r"no value for \$label, \$seen_at"):
        statements.run("t/insert", {"id": 1})


def test_a_catalog_change_makes_everything_prepared_again(statements: sqlfiles.Statements) -> None:
    statements.check_catalog()
    statements.run("t/count")
    assert statements.check_catalog() is False
    statements.run("t/count")
    assert statements.prepares == 1
    statements.con.execute("create temp table unrelated (x integer)")
    assert statements.check_catalog() is True
    assert statements.run("t/count").fetchone() == (0,)
    assert statements.prepares == 2


def test_a_table_created_and_dropped_again_is_a_catalog_change(statements: sqlfiles.Statements) -> None:
    # The catalog then lists what it listed before, but DuckDB plans every prepared statement that reads it
    # again, on every run, until it is prepared again.
    statements.run("t/count")
    assert statements.check_catalog() is False
    with statements.con.cursor() as other:
        other.execute("create table briefly (x integer)")
        other.execute("drop table briefly")
    assert statements.check_catalog() is True
    statements.run("t/count")
    assert statements.check_catalog() is False
    statements.con.execute("create temp table briefly (x integer)")
    statements.con.execute("drop table briefly")
    assert statements.check_catalog() is True
    statements.run("t/count")
    with statements.con.cursor() as other:  # another connection's temporary objects are its own
        other.execute("create temp table elsewhere (x integer)")
    assert statements.check_catalog() is False
    assert statements.prepares == 3


def test_instances_on_one_connection_share_what_is_prepared(statements: sqlfiles.Statements) -> None:
    # The lander's statements, a plug-in's and the ones made for a single call share the owner's connection:
    # what one prepared the others run, a catalog change any of them sees is seen for all, one's forget()
    # leaves none of the others holding handles that are gone, and instances made per call leak nothing.
    statements.run("t/count")
    assert statements.check_catalog() is False
    statements.con.execute("create table later (x integer)")
    other = sqlfiles.Statements(statements.con)
    assert other.run("t/count").fetchone() == (0,)
    assert other.prepares == 0  # the connection's prepared statement
    assert other.check_catalog() is True  # the probe sees the change, whoever prepared the statements
    assert statements.run("t/count").fetchone() == (0,)  # prepared again, not lost
    assert statements.check_catalog() is False and other.check_catalog() is False
    other.forget()
    assert statements.run("t/count").fetchone() == (0,)
    for _ in range(50):
        sqlfiles.Statements(statements.con).run("t/count")
    assert statements.con.execute("select count(*) from duckdb_variables() where name like '%catalog_probe%'"
                                  ).fetchone() == (1,)
    assert statements.con.execute("select count(*) from duckdb_prepared_statements()").fetchone() == (2,)
    with statements.con.cursor() as cursor:  # another connection: its own prepared statements
        cursor_statements = sqlfiles.Statements(cursor)
        assert cursor_statements.run("t/count").fetchone() == (0,)
        assert cursor_statements.prepares == 1


def test_duckdb_plans_a_stale_prepared_statement_again_on_every_run() -> None:
    # What check_catalog is for, and how its probe sees it: getvariable is fixed when a statement is planned.
    con = duckdb.connect()
    con.execute("create table t (x integer)")
    con.execute("set variable v = 0")
    con.execute("prepare p as select getvariable('v') from (select 1 union all select 1 from t) limit 1")
    con.execute("set variable v = 1")
    assert con.execute("execute p").fetchone() == (0,)
    with con.cursor() as other:
        other.execute("create table briefly (x integer)")
        other.execute("drop table briefly")
    assert con.execute("execute p").fetchone() == (1,)
    con.execute("set variable v = 2")
    assert con.execute("execute p").fetchone() == (2,)  # planned again: the new plan was not kept


def test_a_plan_prepared_on_small_data_is_right_on_other_data(statements: sqlfiles.Statements) -> None:
    # DuckDB 1.5.5 keeps the statistics of PREPARE time in the plan unless told otherwise: here the labels
    # came back cut to one character and the join lost rows.
    statements.run("t/insert", {"id": 0, "label": "n", "seen_at": None})
    statements.run("t/labels")
    for i, label in enumerate(["customer-123", "customer-4567"], start=1):
        statements.run("t/insert", {"id": i, "label": label, "seen_at": None})
    assert statements.run("t/labels").fetchall() == [("customer-123", 1), ("customer-4567", 1), ("n", 1)]
    assert statements.con.execute("select current_setting('disabled_optimizers')").fetchone() == ("",)


def test_a_file_with_several_statements_is_not_prepared(statements: sqlfiles.Statements) -> None:
    with pytest.raises(ValueError, match="exactly one statement"):
        statements.run("t/two")


def test_statements_are_prepared_again_once_they_are_old(statements: sqlfiles.Statements) -> None:
    statements.run("t/count")
    statements.check_catalog()
    statements.max_age_s = 0.0
    assert statements.check_catalog() is True
    statements.run("t/count")
    assert statements.prepares == 2


def test_every_batch_statement_declares_its_parameter_types() -> None:
    names = ["ingest/next_batch_id", "ingest/decode_incoming", "ingest/count_valid", "ingest/upsert_customer_profiles",
             "ingest/dead_letter_batch", "ingest/record_offsets", "ingest/record_batch"]
    names += [f"ingest/{step}_{event_type}" for step in ("check", "land") for event_type in EVENT_TYPES]
    for name in names:
        sqlfiles.parameter_types(name)  # raises on a parameter without its type


def test_landing_changes_no_catalog_and_prepares_nothing_after_the_first_batch(tmp_path: Path) -> None:
    con = open_owner(Settings(db_path=tmp_path / "l.duckdb"))
    lander = Lander(con, group_id="it's a group", max_message_bytes=4096)

    def batch(start: int, bad: bool) -> RawBatch:
        b = RawBatch()
        messages = [("tickets", encode(ticket(f"t{start}"))), ("payments", encode(payment(f"p{start}"))),
                    ("visits", encode(visit(f"v{start}")))]
        if bad:
            messages += [(event_type, raw) for event_type, raw, _reason in BAD_MESSAGES[:3]]
        for i, (event_type, raw) in enumerate(messages):
            b.add_kafka(event_type, event_type, 0, start + i, b"k", raw, 1_700_000_000_000)
        return b

    first = lander.land(batch(0, bad=True), "kafka")
    prepared = lander.statements.prepares
    second = lander.land(batch(10, bad=True), "kafka")
    assert lander.statements.check_catalog() is False
    assert lander.statements.prepares == prepared
    assert (first.landed, second.landed) == (3, 3)
    assert first.dead_lettered == second.dead_lettered == 3
    assert con.execute("select count(*) from tickets").fetchone() == (2,)
    assert con.execute("select group_id, max(next_offset) from consumer_offsets group by 1").fetchall() == \
        [("it's a group", 16)]

    # Catalog entries take their oids from one counter: a batch creates none, not even briefly (a relation
    # registered and unregistered within the batch would still make DuckDB plan every prepared statement
    # again, until check_catalog saw it). Dead letters are left out: their ids (nextval) take oids too.
    probe = -_next_catalog_oid(con) + _next_catalog_oid(con)
    before = _next_catalog_oid(con)
    lander.land(batch(20, bad=False), "kafka")
    assert _next_catalog_oid(con) == before + probe

    # The batch tables are emptied before the batch commits: rows committed to a temporary table and deleted
    # by a later transaction would stay in its storage for good.
    for table in BATCH_TABLES:
        assert con.execute(f"select count(*) from pragma_storage_info('{table}')").fetchone() == (0,), table
    con.close()


def _next_catalog_oid(con: duckdb.DuckDBPyConnection) -> int:
    """The oid the next catalog entry gets (read by creating one on a cursor of its own, then dropping it)."""
    with con.cursor() as cur:
        cur.execute("create temp table oid_probe (x integer)")
        oid = cur.execute("select table_oid from duckdb_tables() where table_name = 'oid_probe'").fetchone()[0]
        cur.execute("drop table oid_probe")
    return oid


def test_only_statements_marked_prepared_are_prepared(statements: sqlfiles.Statements, tmp_path: Path) -> None:
    (tmp_path / "sql" / "statements" / "t" / "planned.sql").write_text("select count(*) from items where id = $id\n")
    assert statements.one("t/planned", {"id": 1, "unused": "ignored"}) == (0,)
    assert statements.prepares == 0
    statements.run("t/insert", {"id": 1, "label": "x", "seen_at": None})
    assert statements.prepares == 1
    assert statements.value("t/planned", {"id": 1}) == 1
    planned = sqlfiles.Statements(statements.con, prepare=False)
    assert planned.value("t/count") == 1 and planned.prepares == 0


def test_every_statement_marked_prepared_is_one_statement_with_typed_parameters() -> None:
    marked = [p.relative_to(sqlfiles.SQL_ROOT / "statements").with_suffix("").as_posix()
              for p in sorted((sqlfiles.SQL_ROOT / "statements").rglob("*.sql"))]
    marked = [name for name in marked if sqlfiles.is_prepared(name)]
    assert "ingest/land_tickets" in marked and "health/write_state" in marked
    for name in marked:
        sqlfiles.parameter_types(name)  # raises on a parameter without its type
        assert len(duckdb.extract_statements(sqlfiles.statement(name))) == 1, name


def test_a_transaction_commits_on_success_and_rolls_back_on_failure() -> None:
    con = duckdb.connect()
    con.execute("create table t (x integer)")
    with sqlfiles.transaction(con):
        con.execute("insert into t values (1)")
    with pytest.raises(ZeroDivisionError):
        with sqlfiles.transaction(con):
            con.execute("insert into t values (2)")
            raise ZeroDivisionError
    assert con.execute("select list(x) from t").fetchone() == ([1],)


def test_a_failed_block_raises_its_own_error_when_the_rollback_fails_too(caplog: pytest.LogCaptureFixture) -> None:
    # A failed commit (e.g. a full disk) has already ended the transaction, so the rollback fails with
    # "no transaction is active": the error to see is the block's, not the rollback's.
    con = duckdb.connect()
    with pytest.raises(ValueError, match="the block's own error"):
        with sqlfiles.transaction(con):
            con.execute("rollback")  # the transaction is gone, as after a failed commit
            raise ValueError("the block's own error")
    assert "rollback after ValueError failed" in caplog.text
    with pytest.raises(duckdb.TransactionException, match="cannot commit"):
        with sqlfiles.transaction(con):
            con.execute("commit")  # the block's commit fails, and so does the rollback after it
    assert con.execute("select 1").fetchone() == (1,)  # the connection is usable: no transaction left open
