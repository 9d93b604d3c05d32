from __future__ import annotations

from pathlib import Path

import pytest

from customer_health.config import load_settings
from customer_health.errors import UserError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text)
    return path


def test_every_setting_has_a_default() -> None:
    settings = load_settings(None, env={})
    assert settings.kafka.bootstrap_servers == "localhost:9092"
    assert settings.db_path == Path("data/customer_health.duckdb")
    assert settings.quack.host == "127.0.0.1"


def test_environment_sets_bootstrap_servers_unless_the_file_does(tmp_path: Path) -> None:
    assert load_settings(None, env={"KAFKA_BOOTSTRAP_SERVERS": "k:1"}).kafka.bootstrap_servers == "k:1"
    path = write(tmp_path, '[kafka]\nbootstrap_servers = "f:2"\n')
    assert load_settings(path, env={"KAFKA_BOOTSTRAP_SERVERS": "k:1"}).kafka.bootstrap_servers == "f:2"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[kafka]\nbootstrap = 1\n", "unknown key 'kafka.bootstrap'"),
        ("[pipeline]\nbatch_max_events = 'many'\n", "'pipeline.batch_max_events' must be int"),
        ('[kafka]\nsecurity_protocol = "TLS"\n', "'kafka.security_protocol' must be one of"),
        ("[quack]\nenabled = 1\n", "'quack.enabled' must be bool"),
        ("kafka = 3\n", "'kafka' must be a table"),
        ("[kafka\n", "is not valid TOML"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_settings(write(tmp_path, text), env={})


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", env={})
