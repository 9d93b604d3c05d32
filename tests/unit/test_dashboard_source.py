"""Where the dashboard reads: the pipeline over Quack, else the file; the token never leaks."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from customer_health.config import Settings
from customer_health.db import open_owner, serve, token_path
from customer_health.errors import UserError
from dashboard import queries
from dashboard.source import DataSource
from ingest.broker import free_port


def _settings(tmp_path: Path, token: str = "") -> Settings:
    return Settings(db_path=tmp_path / "h.duckdb").with_overrides(quack__port=free_port(), quack__token=token)


def test_no_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no database at .*run `customer-health ingest` or `load` first"):
        DataSource(_settings(tmp_path)).read(queries.dead_letter_reasons)


def test_reads_the_file_when_no_pipeline_serves_it_and_releases_it(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    open_owner(settings).close()
    source = DataSource(settings)
    assert source.read(queries.dead_letter_reasons).empty
    assert source.last.mode == "file"
    open_owner(settings).close()  # the dashboard holds no lock between reads: a pipeline can start


def test_reads_through_the_pipeline_and_falls_back_to_the_file_when_it_stops(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    owner = open_owner(settings)
    server = serve(owner, settings)
    source = DataSource(settings)
    try:
        assert source.read(queries.dead_letter_reasons).empty
        assert source.last.mode == "quack"
        assert source.read(lambda db: queries.pipeline_overview(db, datetime(2026, 1, 1))).shape[0] == 1
    finally:
        server.stop()
        owner.close()
    assert source.read(queries.dead_letter_reasons).empty
    assert source.last.mode == "file"
    source.close()


def test_the_token_never_appears_in_an_error(tmp_path: Path) -> None:
    served = _settings(tmp_path, token="the-real-token-1234567890")
    owner = open_owner(served)
    server = serve(owner, served)
    wrong = served.with_overrides(quack__token="a-wrong-token-0987654321")
    try:
        with pytest.raises(UserError) as caught:
            DataSource(wrong).read(queries.dead_letter_reasons)
    finally:
        server.stop()
        owner.close()
    message = str(caught.value)
    assert "cannot reach the pipeline" in message
    assert "the-real-token" not in message and "a-wrong-token" not in message


def test_redact_hides_the_configured_and_the_stored_token(tmp_path: Path) -> None:
    settings = _settings(tmp_path, token="configured-token-abc")
    token_path(settings.db_path).write_text("stored-token-xyz\n", encoding="utf-8")
    source = DataSource(settings)
    assert source.redact("a configured-token-abc b stored-token-xyz") == "a *** b ***"


def test_broker_reachability_is_a_tcp_check(tmp_path: Path) -> None:
    settings = _settings(tmp_path).with_overrides(kafka__bootstrap_servers=f"127.0.0.1:{free_port()}")
    assert DataSource(settings).broker_reachable(timeout=0.2) is False
