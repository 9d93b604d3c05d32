"""`customer-health dashboard`: the streamlit command line, settings round trip, sign-in checks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

from customer_health.cli import build_parser
from customer_health.cliutil import common_options, settings_from_args
from customer_health.commands.dashboard import APP, check_sign_in, streamlit_command
from customer_health.config import Settings, load_settings
from customer_health.errors import UserError


def _option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


def _app_args(command: list[str]) -> list[str]:
    return command[command.index("--") + 1:]


def test_listens_on_localhost_headless_by_default(tmp_path: Path) -> None:
    settings = load_settings(None, env={}).with_overrides(db_path=tmp_path / "h.duckdb")
    command = streamlit_command(settings)
    assert command[:5] == [sys.executable, "-m", "streamlit", "run", str(APP)]
    assert _option(command, "--server.address") == "127.0.0.1"
    assert _option(command, "--server.port") == "8501"
    assert _option(command, "--server.headless") == "true"
    assert _option(command, "--browser.gatherUsageStats") == "false"
    assert _option(command, "--client.showErrorDetails") == "none"
    assert "--secrets.files" not in command


def test_host_and_port_come_from_config(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[dashboard]\nhost = "0.0.0.0"\nport = 9000\nrefresh_seconds = 2.5\n', encoding="utf-8")
    settings = load_settings(config, env={})
    command = streamlit_command(settings, config_file=config)
    assert (_option(command, "--server.address"), _option(command, "--server.port")) == ("0.0.0.0", "9000")
    assert settings.dashboard.refresh_seconds == 2.5


def test_port_option_overrides_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, list[str]] = {}

    class FakeProcess:
        def __init__(self, command: list[str]) -> None:
            seen["command"] = command

        def wait(self) -> int:
            return 0

    monkeypatch.setattr("customer_health.commands.dashboard.subprocess.Popen", FakeProcess)
    args = build_parser().parse_args(["dashboard", "--port", "8765", "--db", str(tmp_path / "x.duckdb")])
    assert args.handler(args) == 0
    assert _option(seen["command"], "--server.port") == "8765"
    assert _app_args(seen["command"])[:2] == ["--db", str((tmp_path / "x.duckdb").resolve())]


def test_the_app_loads_the_same_settings_and_never_gets_the_token(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        f'db_path = "{tmp_path / "ignored.duckdb"}"\n[quack]\nport = 9777\ntoken = "s3cret-token-value"\n'
        '[kafka]\nbootstrap_servers = "broker.example:9093"\n[dashboard]\nrefresh_seconds = 3.0\n',
        encoding="utf-8",
    )
    args = build_parser().parse_args(["dashboard", "--config", str(config), "--db", str(tmp_path / "h.duckdb")])
    settings = settings_from_args(args)
    command = streamlit_command(settings, config_file=args.config)
    assert not any("s3cret-token-value" in part for part in command)
    app_args, _ = common_options().parse_known_args(_app_args(command))
    assert settings_from_args(app_args) == settings


def test_bad_port_is_a_one_line_error(tmp_path: Path) -> None:
    args = build_parser().parse_args(["dashboard", "--port", "70000", "--db", str(tmp_path / "x.duckdb")])
    with pytest.raises(UserError, match="--port must be between 1 and 65535"):
        args.handler(args)


def _auth_settings(tmp_path: Path, secrets: str | None, provider: str = "") -> Settings:
    path = tmp_path / "secrets.toml"
    if secrets is not None:
        path.write_text(secrets, encoding="utf-8")
    return load_settings(None, env={}).with_overrides(
        dashboard__auth=True, dashboard__auth_secrets_file=path, dashboard__auth_provider=provider
    )


AUTH = """[auth]
redirect_uri = "http://localhost:8501/oauth2callback"
cookie_secret = "x"
client_id = "id"
client_secret = "secret"
server_metadata_url = "https://idp.example/.well-known/openid-configuration"
"""


def test_sign_in_needs_a_complete_auth_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("customer_health.commands.dashboard.importlib.util.find_spec", lambda name: object())
    with pytest.raises(UserError, match="does not exist"):
        check_sign_in(_auth_settings(tmp_path, None))
    with pytest.raises(UserError, match=r"has no \[auth\] section"):
        check_sign_in(_auth_settings(tmp_path, "[other]\na = 1\n"))
    with pytest.raises(UserError, match="missing client_secret"):
        check_sign_in(_auth_settings(tmp_path, AUTH.replace('client_secret = "secret"\n', "")))
    check_sign_in(_auth_settings(tmp_path, AUTH))
    shared_only = AUTH.replace('client_id = "id"\n', "")
    named = shared_only + '[auth.corp]\nclient_id = "corp"\n'
    check_sign_in(_auth_settings(tmp_path, named, provider="corp"))
    with pytest.raises(UserError, match=r"no \[auth.other\] section"):
        check_sign_in(_auth_settings(tmp_path, AUTH, provider="other"))


def test_sign_in_passes_the_secrets_file_to_streamlit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _auth_settings(tmp_path, AUTH)
    assert _option(streamlit_command(settings), "--secrets.files") == str((tmp_path / "secrets.toml").resolve())


def test_sign_in_without_authlib_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("customer_health.commands.dashboard.importlib.util.find_spec", lambda name: None)
    with pytest.raises(UserError, match=r"streamlit\[auth\]"):
        check_sign_in(_auth_settings(tmp_path, AUTH))


def test_dashboard_is_a_registered_subcommand() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert "dashboard" in sub.choices


def _run_dashboard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config_text: str) -> list[list[str]]:
    started: list[list[str]] = []

    class FakeProcess:
        def __init__(self, command: list[str]) -> None:
            started.append(command)

        def wait(self) -> int:
            return 0

    monkeypatch.setattr("customer_health.commands.dashboard.subprocess.Popen", FakeProcess)
    config = tmp_path / "c.toml"
    config.write_text(config_text, encoding="utf-8")
    args = build_parser().parse_args(["dashboard", "--config", str(config), "--db", str(tmp_path / "x.duckdb")])
    args.handler(args)
    return started


def test_a_dashboard_open_to_the_network_without_sign_in_is_refused_naming_the_setting(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UserError, match="dashboard.allow_unauthenticated_remote = true") as caught:
        _run_dashboard(tmp_path, monkeypatch, '[dashboard]\nhost = "0.0.0.0"\n')
    assert "\n" not in str(caught.value) and "dashboard.auth" in str(caught.value)


def test_an_accepted_unauthenticated_remote_dashboard_starts_with_a_warning(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    started = _run_dashboard(tmp_path, monkeypatch,
                             '[dashboard]\nhost = "0.0.0.0"\nallow_unauthenticated_remote = true\n')
    assert len(started) == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("the dashboard listens on 0.0.0.0:8501" in w and "sign-in is OFF" in w for w in warnings), warnings


def test_a_loopback_dashboard_starts_without_a_warning(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    for host in ("127.0.0.1", "localhost", "::1"):
        assert len(_run_dashboard(tmp_path, monkeypatch, f'[dashboard]\nhost = "{host}"\n')) == 1
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_a_broker_bound_beyond_loopback_warns_that_kafka_is_unauthenticated(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def no_broker(host: str, port: int) -> None:
        raise UserError("not started in this test")

    monkeypatch.setattr("customer_health.commands.pipeline.start_broker", no_broker)
    for host in ("127.0.0.1", "0.0.0.0"):
        args = build_parser().parse_args(["broker", "--host", host, "--port", "9092"])
        with pytest.raises(UserError, match="not started"):
            args.handler(args)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "the broker listens on 0.0.0.0:9092" in warnings[0], warnings
    assert "no authentication" in warnings[0]


def test_streamlit_run_from_the_repository_sends_no_usage_statistics() -> None:
    import tomllib

    config = tomllib.loads((APP.parent.parent / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["disableDataExport"] is True


def test_the_tables_own_csv_export_is_off_so_every_csv_goes_through_the_neutralising_button(
        tmp_path: Path) -> None:
    command = streamlit_command(load_settings(None, env={}).with_overrides(db_path=tmp_path / "h.duckdb"))
    assert _option(command, "--client.disableDataExport") == "true"
