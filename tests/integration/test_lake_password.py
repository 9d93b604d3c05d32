"""store = "ducklake" on a PostgreSQL that wants a password: the password reaches the catalog through a DuckDB
secret bound from CUSTOMER_HEALTH_DUCKLAKE__PASSWORD, never through SQL text, so nothing the connection shows
(its databases, its secrets, an error on a wrong password) holds it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from customer_health.config import Settings, load_settings
from customer_health.db import attach_lake
from customer_health.errors import UserError
from tests.pg import PostgresServer, pg_bin, start_postgres

# Quotes and a backslash: what an escaped copy in a connection string would show differently.
PASSWORD = "pg-pw-it's-7\\Q9"


@pytest.fixture(scope="module")
def guarded_postgres() -> Iterator[PostgresServer]:
    if pg_bin() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql, as .ci/run does)")
    yield from start_postgres(password=PASSWORD)


def lake_settings(tmp_path: Path, catalog: str, password: str) -> Settings:
    config = tmp_path / "lake.toml"
    config.write_text(f'store = "ducklake"\n[ducklake]\ncatalog = "{catalog}"\n'
                      f'data_path = "{tmp_path / "lake-data"}/"\n', encoding="utf-8")
    return load_settings(config, env={"CUSTOMER_HEALTH_DUCKLAKE__PASSWORD": password})


def shown(con: duckdb.DuckDBPyConnection) -> str:
    """Everything the connection tells about its databases, secrets and settings, as text."""
    return "\n".join(str(con.execute(sql).fetchall()) for sql in (
        "from duckdb_databases()", "from duckdb_secrets()", "from duckdb_settings()"))


def fragments(password: str) -> set[str]:
    """The password and the parts of it a quoting or escaping could leave whole."""
    return {password, *(part for part in password.replace("\\", "'").split("'") if len(part) >= 4)}


def test_the_password_is_never_in_the_attach_text_nor_in_what_the_connection_shows(
    guarded_postgres: PostgresServer, tmp_path: Path,
) -> None:
    settings = lake_settings(tmp_path, guarded_postgres.createdb("guarded_ok"), PASSWORD)
    con = duckdb.connect()
    try:
        attach_lake(con, settings)
        con.execute("create table lake.probe as select 42 as answer")
        assert con.execute("select answer from lake.probe").fetchall() == [(42,)], "the lake is attached"
        text = shown(con)
        assert [f for f in fragments(PASSWORD) if f in text] == [], "the password shows on the connection"
    finally:
        con.close()


def test_a_wrong_password_fails_with_an_error_that_holds_neither_password(
    guarded_postgres: PostgresServer, tmp_path: Path,
) -> None:
    wrong = "wrong-pw-'x\\yz-31"
    settings = lake_settings(tmp_path, guarded_postgres.createdb("guarded_wrong"), wrong)
    con = duckdb.connect()
    try:
        with pytest.raises(UserError, match="password authentication failed") as refused:
            attach_lake(con, settings)
        # The engine's own error too (the context of the UserError, which redacts as a last resort).
        text = "\n".join((str(refused.value), str(refused.value.__context__), shown(con)))
        assert [f for f in fragments(wrong) | fragments(PASSWORD) if f in text] == [], text
    finally:
        con.close()
