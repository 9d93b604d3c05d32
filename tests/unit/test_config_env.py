"""CUSTOMER_HEALTH_* environment overrides (containers configure the product by environment)."""

from __future__ import annotations

from pathlib import Path

import pytest

from customer_health.config import load_settings
from customer_health.errors import UserError


def test_variables_set_top_level_and_nested_settings_with_their_types() -> None:
    settings = load_settings(None, env={
        "CUSTOMER_HEALTH_DB_PATH": "/data/health.duckdb",
        "CUSTOMER_HEALTH_QUACK__PORT": "9595",
        "CUSTOMER_HEALTH_QUACK__ENABLED": "false",
        "CUSTOMER_HEALTH_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
        "CUSTOMER_HEALTH_KAFKA__SASL_PASSWORD": "s3cret with spaces = and 'quotes'",
        "CUSTOMER_HEALTH_PIPELINE__SCHEDULE_INTERVAL_S": "5",
    })
    assert settings.db_path == Path("/data/health.duckdb")
    assert settings.quack.port == 9595 and settings.quack.enabled is False
    assert settings.kafka.security_protocol == "SASL_SSL"
    assert settings.kafka.sasl_password == "s3cret with spaces = and 'quotes'"
    assert settings.pipeline.schedule_interval_s == 5.0


def test_variables_win_over_the_file_and_config_variable_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[quack]\nport = 1111\nhost = "10.0.0.1"\n')
    settings = load_settings(None, env={"CUSTOMER_HEALTH_CONFIG": str(path), "CUSTOMER_HEALTH_QUACK__PORT": "2222"})
    assert (settings.quack.host, settings.quack.port) == ("10.0.0.1", 2222)
    explicit = tmp_path / "other.toml"
    explicit.write_text("[quack]\nport = 3333\n")
    assert load_settings(explicit, env={"CUSTOMER_HEALTH_CONFIG": str(path)}).quack.port == 3333


def test_variables_other_than_ours_are_ignored() -> None:
    assert load_settings(None, env={"HOME": "/root", "CUSTOMER_HEALTHY": "1"}).quack.port == 9494


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CUSTOMER_HEALTH_QUACK__PORTS", "1", "unknown setting 'quack.ports'"),
        ("CUSTOMER_HEALTH_NOPE", "1", "unknown setting 'nope'"),
        ("CUSTOMER_HEALTH_QUACK", "1", "'quack' is a section"),
        ("CUSTOMER_HEALTH_DB_PATH__X", "1", "'db_path' is not a section"),
        ("CUSTOMER_HEALTH_QUACK__PORT", "ninety", "not a TOML value for 'quack.port'"),
        ("CUSTOMER_HEALTH_QUACK__ENABLED", "1", "'quack.enabled' must be bool"),
        ("CUSTOMER_HEALTH_KAFKA__SECURITY_PROTOCOL", "TLS", "'kafka.security_protocol' must be one of"),
    ],
)
def test_a_bad_variable_is_named_in_the_error(name: str, value: str, message: str) -> None:
    with pytest.raises(UserError, match=name) as info:
        load_settings(None, env={name: value})
    assert message in str(info.value)


def test_a_missing_config_file_from_the_environment_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        load_settings(None, env={"CUSTOMER_HEALTH_CONFIG": str(tmp_path / "nope.toml")})
