"""What the command line's parts share: the common options, how they become Settings, JSON output.

Below the CLI entry point (``cli``), its subcommands (``commands``) and the dashboard (which reads the same
options from its own command line), so that none of them imports another.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, NoReturn

from customer_health.config import Settings, load_settings
from customer_health.errors import UserError


class CliParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, exit 2, as argparse does, but without the usage dump
        sys.stderr.write(f"customer-health: error: {message} (see --help)\n")
        raise SystemExit(2)


def common_options() -> argparse.ArgumentParser:
    common = CliParser(add_help=False)
    common.add_argument("--db", type=Path, help="database file (default: data/customer_health.duckdb)")
    common.add_argument("--config", type=Path, help="TOML config file; every setting has a default")
    common.add_argument(
        "--bootstrap-servers", metavar="HOST:PORT",
        help="Kafka bootstrap servers (default: $KAFKA_BOOTSTRAP_SERVERS, else localhost:9092)",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    return common


def settings_from_args(args: argparse.Namespace) -> Settings:
    settings = load_settings(args.config)
    if args.db is not None:
        settings = settings.with_overrides(db_path=args.db)
    if args.bootstrap_servers:
        if ":" not in args.bootstrap_servers:
            raise UserError(f"--bootstrap-servers must be HOST:PORT, got {args.bootstrap_servers!r}")
        settings = settings.with_overrides(kafka__bootstrap_servers=args.bootstrap_servers)
    return settings


def print_json(document: Any) -> None:
    json.dump(document, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
