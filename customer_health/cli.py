"""`customer-health`: one command, with subcommands. Errors are one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
from kafka.errors import KafkaError

from customer_health.config import Settings, load_settings
from customer_health.errors import UserError
from customer_health.private import restrict_umask

# Each module registers its subcommands with `register(subparsers, common)`.
COMMAND_MODULES = [
    "customer_health.commands.pipeline",
    "customer_health.commands.health",
    "customer_health.commands.quality",
    "customer_health.commands.dashboard",
    "customer_health.commands.simulate",
    "customer_health.commands.demo",
    "customer_health.commands.churn",
]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as argparse does, but without the usage dump
        sys.stderr.write(f"customer-health: error: {message} (see --help)\n")
        raise SystemExit(2)


def common_options() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--db", type=Path, help="database file (default: data/customer_health.duckdb)")
    common.add_argument("--config", type=Path, help="TOML config file; every setting has a default")
    common.add_argument(
        "--bootstrap-servers", metavar="HOST:PORT",
        help="Kafka bootstrap servers (default: $KAFKA_BOOTSTRAP_SERVERS, else localhost:9092)",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="customer-health", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    common = common_options()
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub, common)
    return parser


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


def main(argv: Sequence[str] | None = None) -> int:
    restrict_umask()  # what the commands write (database, dossiers, event files) is the user's alone
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("kafka").setLevel(logging.WARNING if not args.verbose else logging.DEBUG)
    try:
        result = args.handler(args)
        sys.stdout.flush()
    except BrokenPipeError:
        return _reader_went_away()
    except UserError as exc:
        sys.stderr.write(f"customer-health: {exc}\n")
        return 1
    except duckdb.Error as exc:
        sys.stderr.write(f"customer-health: database error: {str(exc).splitlines()[0]}\n")
        return 1
    except KafkaError as exc:
        sys.stderr.write(f"customer-health: Kafka error: {exc} (is the broker at the configured address?)\n")
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: one line for the user, the traceback with --verbose
        if args.verbose:
            raise
        sys.stderr.write(f"customer-health: unexpected {type(exc).__name__}: {exc} (run with -v for details)\n")
        return 1
    return int(result or 0)


def _reader_went_away() -> int:
    """The reader of our stdout closed it (`| head -1`): stop quietly with success, as `cat` would.

    stdout now points at /dev/null, so the interpreter's final flush of what is still buffered cannot
    fail again.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
