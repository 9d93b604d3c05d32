"""data_path on S3: attach_lake creates a temporary S3 secret scoped to the lake's path (httpfs), and neither the
catalog password nor the S3 secret key reaches an error message."""

from __future__ import annotations

import duckdb
import pytest

from customer_health.config import Settings
from customer_health.db import attach_lake
from customer_health.errors import UserError


def test_an_s3_data_path_gets_a_secret_scoped_to_it_and_errors_keep_the_secrets() -> None:
    settings = Settings(store="ducklake").with_overrides(
        ducklake__catalog="postgres:dbname=none host=127.0.0.1 port=1 user=nobody connect_timeout=1",
        ducklake__data_path="s3://health-lake/events/", ducklake__s3_endpoint="127.0.0.1:9000",
        ducklake__s3_access_key_id="minio", ducklake__s3_secret_access_key="minio-secret-key",
        ducklake__s3_use_ssl=False, ducklake__password="pg-secret-password")
    con = duckdb.connect()
    with pytest.raises(UserError, match="cannot attach the lake") as raised:
        attach_lake(con, settings)
    assert "pg-secret-password" not in str(raised.value) and "minio-secret-key" not in str(raised.value)
    assert con.execute("select type, scope from duckdb_secrets() where name = 'lake_s3'").fetchall() == [
        ("s3", ["s3://health-lake/events/"])]


class _EchoingAttach:
    """A connection whose ATTACH fails with an error that echoes the whole statement."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def execute(self, query: str, *args: object) -> duckdb.DuckDBPyConnection:
        if query.lstrip().lower().startswith("attach"):
            raise duckdb.IOException(f"could not attach: {query}")
        return self.con.execute(query, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self.con, name)


@pytest.mark.parametrize("password", ["plain-pg-password", "it's a \\ pass"])
def test_an_error_that_echoes_the_attach_statement_keeps_the_secrets(password: str) -> None:
    settings = Settings(store="ducklake").with_overrides(
        ducklake__catalog="postgres:dbname=none host=127.0.0.1 port=1 user=nobody",
        ducklake__data_path="s3://health-lake/events/", ducklake__s3_endpoint="127.0.0.1:9000",
        ducklake__s3_access_key_id="minio", ducklake__s3_secret_access_key="minio-secret-key",
        ducklake__s3_use_ssl=False, ducklake__password=password)
    with pytest.raises(UserError, match="cannot attach the lake") as raised:
        attach_lake(_EchoingAttach(duckdb.connect()), settings)  # type: ignore[arg-type]
    text = str(raised.value)
    # The statement names the catalog's secret; the password is bound into the secret, never in the text.
    assert "could not attach" in text and "'secret': 'lake_catalog'" in text
    assert "pass" not in text.replace("password", "") and "minio-secret-key" not in text
