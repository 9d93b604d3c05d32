"""`customer-health`: one command, with subcommands. Errors are one line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from types import ModuleType

import duckdb
from kafka.errors import KafkaError

from customer_health.cliutil import CliParser, common_options
from customer_health.commands import backtest, churn, dashboard, demo, health, pipeline, quality, simulate
from customer_health.errors import UserError
from customer_health.private import restrict_umask

# Each module registers its subcommands with `register(subparsers, common)`, in this order (as --help lists them).
COMMANDS: tuple[ModuleType, ...] = (pipeline, health, backtest, quality, dashboard, simulate, demo, churn)


def build_parser() -> argparse.ArgumentParser:
    parser = CliParser(prog="customer-health", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=CliParser)
    common = common_options()
    for command in COMMANDS:
        command.register(sub, common)
    return parser


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
        if isinstance(exc.__cause__, KeyboardInterrupt):  # Ctrl-C in a DuckDB query: RuntimeError from it
            return 130
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
