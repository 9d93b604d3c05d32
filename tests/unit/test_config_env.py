"""CUSTOMER_HEALTH_* environment overrides (containers configure the product by environment)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

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
    assert settings.kafka.sasl_password.get_secret_value() == "s3cret with spaces = and 'quotes'"
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


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CUSTOMER_HEALTH_QUACK__PORT", "99999", "quack.port must be between 1 and 65535, got 99999"),
        ("CUSTOMER_HEALTH_KAFKA__PARTITIONS", "0", "kafka.partitions must be more than 0, got 0"),
        ("CUSTOMER_HEALTH_ALERTS__WEBHOOK_TIMEOUT_S", "-3", "alerts.webhook_timeout_s must be more than 0, got -3"),
        ("CUSTOMER_HEALTH_ALERTS__DEAD_LETTER_MIN_RATE", "2",
         "alerts.dead_letter_min_rate must be between 0 and 1, got 2"),
        ("CUSTOMER_HEALTH_HEALTH__WEIGHTS__ENGAGEMENT", "-1", "health.weights.engagement must be 0 or more, got -1"),
        ("CUSTOMER_HEALTH_HEALTH__FX_RATES", "{ EUR = 0 }", "health.fx_rates.EUR must be more than 0, got 0"),
        ("CUSTOMER_HEALTH_QUACK__PORT", '"9494"', "'quack.port' must be int, got '9494'"),
    ],
)
def test_a_variable_out_of_range_is_named_in_the_error(name: str, value: str, message: str) -> None:
    with pytest.raises(UserError) as info:
        load_settings(None, env={name: value})
    assert str(info.value) == f"environment variable {name}: {message}"


def test_a_variable_overriding_a_bad_file_value_is_blamed_only_for_its_own(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[quack]\nport = 0\n")
    assert load_settings(path, env={"CUSTOMER_HEALTH_QUACK__PORT": "2222"}).quack.port == 2222
    with pytest.raises(UserError, match=f"^config {path}: quack.port must be between"):
        load_settings(path, env={"CUSTOMER_HEALTH_QUACK__HOST": "0.0.0.0"})


def test_variables_set_nested_sections_lists_and_tables_typed_like_toml() -> None:
    settings = load_settings(None, env={
        "CUSTOMER_HEALTH_HEALTH__WEIGHTS__ENGAGEMENT": "0.5",
        "CUSTOMER_HEALTH_ALERTS__SEGMENT_ORDER": '["a", "b"]',
        "CUSTOMER_HEALTH_ALERTS__WEBHOOK_HEADERS": '{ X-Api-Key = "k-1" }',
        "CUSTOMER_HEALTH_DASHBOARD__AUTH_SECRETS_FILE": "/run/secrets/auth.toml",
    })
    assert settings.health.weights.engagement == 0.5 and settings.health.weights.profitability == 0.20
    assert settings.alerts.segment_order == ("a", "b")
    assert settings.alerts.webhook_headers == {"X-Api-Key": SecretStr("k-1")}
    assert settings.dashboard.auth_secrets_file == Path("/run/secrets/auth.toml")


def test_customer_health_variable_wins_over_kafka_bootstrap_servers_and_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[kafka]\nbootstrap_servers = "f:2"\n')
    env = {"KAFKA_BOOTSTRAP_SERVERS": "k:1", "CUSTOMER_HEALTH_KAFKA__BOOTSTRAP_SERVERS": "c:3"}
    assert load_settings(path, env=env).kafka.bootstrap_servers == "c:3"
    assert load_settings(None, env=env).kafka.bootstrap_servers == "c:3"


def test_secrets_never_show_in_a_repr_and_reach_the_kafka_client() -> None:
    settings = load_settings(None, env={
        "CUSTOMER_HEALTH_KAFKA__SASL_MECHANISM": "PLAIN", "CUSTOMER_HEALTH_KAFKA__SASL_PASSWORD": "pw-123",
        "CUSTOMER_HEALTH_QUACK__TOKEN": "tok-456", "CUSTOMER_HEALTH_ALERTS__WEBHOOK_HEADERS": '{ X-Key = "hdr-789" }',
    })
    assert not any(secret in repr(settings) for secret in ("pw-123", "tok-456", "hdr-789"))
    assert settings.kafka.client_options()["sasl_plain_password"] == "pw-123"
    assert settings.quack.token.get_secret_value() == "tok-456"
