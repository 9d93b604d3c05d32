"""The lake on a real PostgreSQL server: signed extensions from their wheels, two connections at once, and the
per-table conflict that the pipelines' fencing rests on."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Barrier

import duckdb
import pytest

from customer_health.config import Settings
from customer_health.db import attach_lake
from customer_health.errors import UserError


def lake_settings(catalog: str, tmp_path: Path) -> Settings:
    return Settings(store="ducklake").with_overrides(ducklake__catalog=catalog,
                                                     ducklake__data_path=str(tmp_path / "lake") + "/")


def test_two_connections_share_the_lake_with_signed_extensions_only(lake_catalog: str, tmp_path: Path) -> None:
    settings = lake_settings(lake_catalog, tmp_path)
    writer, reader = duckdb.connect(), duckdb.connect()
    attach_lake(writer, settings)
    attach_lake(reader, settings)
    assert writer.execute("select current_setting('allow_unsigned_extensions')").fetchone() == (False,)
    writer.execute("create table lake.t (x integer)")
    writer.execute("insert into lake.t select range from range(1000)")
    assert reader.execute("select count(*), sum(x) from lake.t").fetchone() == (1000, 499500)
    assert list((tmp_path / "lake").rglob("*.parquet")), "the rows went to Parquet files under data_path"


def test_two_writers_replacing_one_table_conflict_and_the_second_commit_fails(lake_catalog: str,
                                                                                tmp_path: Path) -> None:
    settings = lake_settings(lake_catalog, tmp_path)
    a, b = duckdb.connect(), duckdb.connect()
    attach_lake(a, settings)
    attach_lake(b, settings)
    a.execute("create table lake.owner (pipeline varchar)")
    a.execute("insert into lake.owner values ('seed')")
    a.execute("begin")
    b.execute("begin")
    for con, name in ((a, "a"), (b, "b")):
        con.execute("delete from lake.owner")
        con.execute("insert into lake.owner values (?)", [name])
    a.execute("commit")
    with pytest.raises(duckdb.TransactionException, match="conflict"):
        b.execute("commit")
    assert b.execute("from lake.owner").fetchall() == [("a",)]


def test_an_unreachable_catalog_is_a_user_error_without_the_password(tmp_path: Path) -> None:
    settings = Settings(store="ducklake").with_overrides(
        ducklake__catalog="postgres:dbname=none host=127.0.0.1 port=1 user=nobody connect_timeout=2",
        ducklake__data_path=str(tmp_path / "lake"), ducklake__password="hunter2-secret")
    with pytest.raises(UserError, match="cannot attach the lake") as raised:
        attach_lake(duckdb.connect(), settings)
    assert "hunter2-secret" not in str(raised.value)


def test_processes_attaching_a_new_lake_at_once_all_attach(lake_catalog: str, tmp_path: Path) -> None:
    """The first pipelines of a new lake start together: they race to create DuckLake's catalog tables; the
    losers attach once the winner's are there, instead of exiting."""
    settings = lake_settings(lake_catalog, tmp_path)
    start = Barrier(4)

    def attach_one(i: int) -> int:
        con = duckdb.connect()
        start.wait()
        attach_lake(con, settings)
        con.execute(f"create table if not exists lake.t{i} (x integer)")
        return i

    with ThreadPoolExecutor(4) as pool:
        assert sorted(pool.map(attach_one, range(4))) == [0, 1, 2, 3]
