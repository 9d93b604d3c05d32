"""`customer-health dashboard`: serve the Streamlit dashboard (localhost unless configured otherwise)."""

from __future__ import annotations

import argparse
import importlib.util
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

from customer_health.cliutil import settings_from_args
from customer_health.config import Settings
from customer_health.errors import UserError
from customer_health.exposure import is_loopback, warn_if_exposed

APP = Path(__file__).resolve().parent.parent.parent / "dashboard" / "app.py"


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "dashboard", parents=[common],
        help="serve the Streamlit dashboard (listens on dashboard.host, 127.0.0.1 by default)",
    )
    p.add_argument("--port", type=int, help="port to listen on (default: dashboard.port, 8501)")
    p.set_defaults(handler=cmd_dashboard)


def cmd_dashboard(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if args.port is not None:
        if not 0 < args.port < 65536:
            raise UserError(f"--port must be between 1 and 65535, got {args.port}")
        settings = settings.with_overrides(dashboard__port=args.port)
    check_sign_in(settings)
    check_exposure(settings)
    command = streamlit_command(settings, config_file=args.config, verbose=args.verbose)
    print(f"dashboard on http://{settings.dashboard.host}:{settings.dashboard.port} "
          f"(reading {settings.db_path}); Ctrl-C to stop", file=sys.stderr, flush=True)
    process = subprocess.Popen(command)
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: process.terminate())
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        return process.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)


def streamlit_command(settings: Settings, config_file: Path | None = None, verbose: bool = False) -> list[str]:
    """The `streamlit run` command line. The app receives the config file and database path after `--`
    and loads the same Settings; the Quack token is never on the command line."""
    dash = settings.dashboard
    command = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", dash.host,
        "--server.port", str(dash.port),
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--browser.gatherUsageStats", "false",
        "--client.showErrorDetails", "none",  # no tracebacks in the page: pages show their own messages
        "--client.toolbarMode", "viewer",
        # The tables' own CSV download writes cells as they are (spreadsheet formulas included): each table
        # has a "Download CSV" button that neutralises them instead (customer_health.csv_export).
        "--client.disableDataExport", "true",
        "--logger.level", "debug" if verbose else "info",
    ]
    if dash.auth:
        command += ["--secrets.files", str(dash.auth_secrets_file.resolve())]
    command += ["--", "--db", str(settings.db_path.resolve())]
    if config_file is not None:
        command += ["--config", str(config_file.resolve())]
    command += ["--bootstrap-servers", settings.kafka.bootstrap_servers]
    return command


def check_exposure(settings: Settings) -> None:
    """Refuse a dashboard reachable from other machines without sign-in unless explicitly accepted; warn
    whenever it is reachable."""
    dash = settings.dashboard
    if is_loopback(dash.host):
        return
    if not dash.auth and not dash.allow_unauthenticated_remote:
        raise UserError(
            f"dashboard.host = {dash.host!r} shows customer data to other machines without sign-in: turn on "
            "dashboard.auth, bind to 127.0.0.1, or set dashboard.allow_unauthenticated_remote = true"
        )
    risk = ("sign-in is on (dashboard.auth); serve it behind TLS" if dash.auth else
            "sign-in is OFF (dashboard.allow_unauthenticated_remote = true): anyone who reaches it reads "
            "customer data and records interventions")
    warn_if_exposed("the dashboard", dash.host, dash.port, risk)


def check_sign_in(settings: Settings) -> None:
    """With sign-in switched on, fail early and clearly when Streamlit cannot run the OIDC flow."""
    dash = settings.dashboard
    if not dash.auth:
        return
    if importlib.util.find_spec("authlib") is None:
        raise UserError("dashboard.auth is on but Authlib is not installed: pip install 'streamlit[auth]'")
    path = dash.auth_secrets_file
    try:
        secrets = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"dashboard.auth is on but {path} does not exist: add an [auth] section (redirect_uri, "
            "cookie_secret, client_id, client_secret, server_metadata_url) or set dashboard.auth_secrets_file"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} is not valid TOML: {exc}") from None
    section = secrets.get("auth")
    if dash.auth_provider and isinstance(section, dict):
        section = {**section, **section.get(dash.auth_provider, {})} if dash.auth_provider in section else None
    name = f"[auth.{dash.auth_provider}]" if dash.auth_provider else "[auth]"
    if not isinstance(section, dict):
        raise UserError(f"dashboard.auth is on but {path} has no {name} section")
    missing = [k for k in ("redirect_uri", "cookie_secret", "client_id", "client_secret", "server_metadata_url")
               if not section.get(k)]
    if missing:
        raise UserError(f"{path} {name}: missing {', '.join(missing)}")
