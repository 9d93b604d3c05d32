from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from customer_health.config import Settings, load_settings
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


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[quack]\nport = 99999\n", "quack.port must be between 1 and 65535, got 99999"),
        ("[dashboard]\nport = 0\n", "dashboard.port must be between 1 and 65535, got 0"),
        ("[kafka]\npartitions = 0\n", "kafka.partitions must be more than 0, got 0"),
        ("[kafka]\nsession_timeout_ms = 0\n", "kafka.session_timeout_ms must be more than 0, got 0"),
        ("[alerts]\nwebhook_timeout_s = -3\n", "alerts.webhook_timeout_s must be more than 0, got -3"),
        ("[alerts]\nwebhook_queue_size = 0\n", "alerts.webhook_queue_size must be more than 0, got 0"),
        ("[dashboard]\nrefresh_seconds = 0\n", "dashboard.refresh_seconds must be more than 0, got 0"),
        ("[alerts]\ndead_letter_min_rate = 1.5\n", "alerts.dead_letter_min_rate must be between 0 and 1, got 1.5"),
        ("[churn]\nalert_p_alive_below = -0.1\n", "churn.alert_p_alive_below must be between 0 and 1, got -0.1"),
        ("[health.segments]\nchampion_min_score = 101\n",
         "health.segments.champion_min_score must be between 0 and 100, got 101"),
        ("[health.weights]\nengagement = -1\n", "health.weights.engagement must be 0 or more, got -1"),
        ("[health.fx_rates]\nEUR = 0\n", "health.fx_rates.EUR must be more than 0, got 0"),
        ("[health]\nwin_back_days = [30, 0]\n", "health.win_back_days[1] must be more than 0, got 0"),
        ("[quality]\nvolume_band = 0.5\n", "quality.volume_band must be 1 or more, got 0.5"),
        ("[what_if]\nhousehold_follow_share = 1.2\n",
         "what_if.household_follow_share must be between 0 and 1, got 1.2"),
        ("[what_if]\ncomplaint_witness_loss_share = -0.1\n",
         "what_if.complaint_witness_loss_share must be between 0 and 1, got -0.1"),
        ("[what_if]\nwhale_curve_points = 1\n", "what_if.whale_curve_points must be between 2 and 2000, got 1"),
    ],
)
def test_out_of_range_values_are_refused_naming_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(UserError, match=re.escape(f"config {path}: {message}")):
        load_settings(path, env={})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[quack]\nport = "9494"\n', "'quack.port' must be int, got '9494'"),
        ("[quack]\nport = 9494.0\n", "'quack.port' must be int, got 9494.0"),
        ("[alerts]\nwebhook_timeout_s = true\n", "'alerts.webhook_timeout_s' must be a number, got True"),
        ("[alerts]\nsegment_order = [1]\n", "'alerts.segment_order[0]' must be str, got 1"),
        ('[Kafka]\npartitions = 1\n', "unknown key 'Kafka'"),
        ('[health.weights]\nvalue = 1\n', "unknown key 'health.weights.value'"),
    ],
)
def test_values_are_not_converted_between_types(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(UserError, match=re.escape(message)):
        load_settings(write(tmp_path, text), env={})


def test_file_values_of_every_kind_are_typed(tmp_path: Path) -> None:
    path = write(tmp_path, 'db_path = "x/h.duckdb"\n[alerts]\nwebhook_timeout_s = 2\nsegment_order = ["a", "b"]\n'
                           '[health]\nwin_back_days = [7]\n[health.weights]\nengagement = 0.5\n')
    settings = load_settings(path, env={})
    assert settings.db_path == Path("x/h.duckdb")
    assert settings.alerts.webhook_timeout_s == 2.0 and isinstance(settings.alerts.webhook_timeout_s, float)
    assert settings.alerts.segment_order == ("a", "b") and settings.health.win_back_days == (7,)
    assert settings.health.weights.engagement == 0.5 and settings.health.weights.profitability == 0.20


def test_overrides_are_validated_and_leave_the_original_alone() -> None:
    settings = load_settings(None, env={})
    changed = settings.with_overrides(quack__port=1234, health__weights__engagement=0.5)
    assert (changed.quack.port, changed.health.weights.engagement) == (1234, 0.5)
    assert (settings.quack.port, settings.health.weights.engagement) == (9494, 0.25)
    with pytest.raises(UserError, match=re.escape("dashboard.port must be between 1 and 65535, got 70000")):
        settings.with_overrides(dashboard__port=70000)
    with pytest.raises(UserError, match="unknown key 'quack.ports'"):
        settings.with_overrides(quack__ports=1)
    assert settings.health.with_overrides(currency="USD").currency == "USD"


def test_settings_are_immutable() -> None:
    settings = load_settings(None, env={})
    with pytest.raises(ValidationError, match="frozen"):
        settings.quack.port = 1  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        settings.db_path = Path("x")  # type: ignore[misc]


def test_settings_built_in_code_read_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTOMER_HEALTH_QUACK__PORT", "1111")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k:1")
    assert Settings().quack.port == 9494 and Settings().kafka.bootstrap_servers == "localhost:9092"
    assert load_settings(None, env={}).quack.port == 9494
    assert load_settings(None).quack.port == 1111  # no mapping given: the process environment
