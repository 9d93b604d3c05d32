"""store and [ducklake]: the settings of the shared lake, the password only from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from customer_health.config import load_settings
from customer_health.errors import UserError


def test_the_default_store_is_the_embedded_file() -> None:
    assert load_settings(env={}).store == "duckdb"


def test_the_lake_settings_come_from_the_file_and_the_password_from_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('store = "ducklake"\n[ducklake]\n'
                      'catalog = "postgres:dbname=health host=127.0.0.1 port=5432 user=health"\n'
                      'data_path = "s3://health-lake/events/"\n', encoding="utf-8")
    settings = load_settings(config, env={"CUSTOMER_HEALTH_DUCKLAKE__PASSWORD": "it's s3cr\\et"})
    assert settings.store == "ducklake"
    assert settings.ducklake.data_path == "s3://health-lake/events/"
    assert settings.ducklake.password.get_secret_value() == "it's s3cr\\et"
    assert "s3cr" not in repr(settings.ducklake)
    assert "s3cr" not in settings.ducklake.catalog


def test_an_unknown_store_is_refused_naming_the_choices(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('store = "lake"\n', encoding="utf-8")
    with pytest.raises(UserError, match="'store' must be one of 'duckdb' or 'ducklake', got 'lake'"):
        load_settings(config, env={})


@pytest.mark.parametrize(("catalog", "message"), [
    ("dbname=health host=127.0.0.1", "must be a PostgreSQL connection string"),
    ("postgres:dbname=health user=health password=hunter2", "must not hold the password"),
])
def test_a_catalog_that_is_not_postgres_or_holds_the_password_is_refused(
    tmp_path: Path, catalog: str, message: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'store = "ducklake"\n[ducklake]\ncatalog = "{catalog}"\n', encoding="utf-8")
    with pytest.raises(UserError, match=message) as refused:
        load_settings(config, env={})
    assert "hunter2" not in str(refused.value)


def test_checkpoints_are_written_every_minute_by_default_never_with_0_and_a_negative_interval_is_refused(
    tmp_path: Path,
) -> None:
    assert load_settings(env={}).ducklake.checkpoint_interval_s == 60.0
    config = tmp_path / "config.toml"
    config.write_text('store = "ducklake"\n[ducklake]\ncheckpoint_interval_s = 0.0\n', encoding="utf-8")
    assert load_settings(config, env={}).ducklake.checkpoint_interval_s == 0.0
    config.write_text('store = "ducklake"\n[ducklake]\ncheckpoint_interval_s = -1.0\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"ducklake\.checkpoint_interval_s must be 0 or more, got -1\.0"):
        load_settings(config, env={})
