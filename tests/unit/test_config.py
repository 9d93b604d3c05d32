from __future__ import annotations

import re
from pathlib import Path

import pytest

from customer_health.config import load_settings
from customer_health.db import open_owner
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


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[pipeline]\nduckdb_threads = -1\n", "pipeline.duckdb_threads must be 0 (automatic) or more, got -1"),
        ("[pipeline]\nbatch_max_events = 0\n", "pipeline.batch_max_events must be more than 0, got 0"),
        ("[pipeline]\nbatch_max_mb = 0\n", "pipeline.batch_max_mb must be more than 0, got 0"),
        ("[pipeline]\nbatch_max_wait_ms = -5\n", "pipeline.batch_max_wait_ms must be more than 0, got -5"),
        ("[pipeline]\ncheckpoint_threshold_mb = 0\n", "pipeline.checkpoint_threshold_mb must be more than 0, got 0"),
    ],
)
def test_pipeline_settings_out_of_range(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "c.toml").write_text(text)
    with pytest.raises(UserError, match=re.escape(message)):
        load_settings(tmp_path / "c.toml", env={})


def test_duckdb_threads_leave_a_core_to_the_poll_loop(tmp_path: Path) -> None:
    automatic = load_settings(None, env={}).pipeline
    assert [automatic.threads(cores) for cores in (None, 1, 2, 8)] == [1, 1, 1, 7]
    (tmp_path / "c.toml").write_text("[pipeline]\nduckdb_threads = 3\n")
    assert load_settings(tmp_path / "c.toml", env={}).pipeline.threads(2) == 3


def test_the_owner_connection_checkpoints_at_the_configured_log_size(tmp_path: Path) -> None:
    default = load_settings(None, env={}).with_overrides(db_path=tmp_path / "a.duckdb")
    (tmp_path / "c.toml").write_text("[pipeline]\ncheckpoint_threshold_mb = 64\n")
    configured = load_settings(tmp_path / "c.toml", env={}).with_overrides(db_path=tmp_path / "b.duckdb")
    for settings, expected in ((default, "128.0 MiB"), (configured, "64.0 MiB")):
        con = open_owner(settings)
        try:
            assert con.execute("select current_setting('checkpoint_threshold')").fetchone()[0] == expected
        finally:
            con.close()
