"""`customer-health demo`: the one-command live demo (orchestration in customer_health/demo.py)."""

from __future__ import annotations

import argparse

from customer_health.cliutil import settings_from_args
from customer_health.commands.simulate import MAX_DAYS_PER_MINUTE, _days_per_minute, _positive_float, _positive_int
from customer_health.demo import DemoOptions, run_demo
from customer_health.errors import UserError


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "demo", parents=[common],
        help="the live demo: embedded broker, pipeline, simulator and dashboard; Ctrl-C stops everything",
        description="Starts the embedded broker, the pipeline, the simulator (history first, then live events) "
                    "and the dashboard as child processes and prints the dashboard's URL. Ctrl-C or SIGTERM stops "
                    "them all; the data stays in the database and a later run continues it. With "
                    "--bootstrap-servers the demo uses that broker instead of starting one.",
    )
    p.add_argument("--customers", type=_positive_int, default=500, help="simulated customers (default 500)")
    p.add_argument("--seed", type=int, default=42, help="simulation seed (default 42)")
    p.add_argument("--history-days", type=_positive_int, default=150,
                   help="days of history (default 150: the 60-day backtest then sees 90 days of baseline)")
    p.add_argument("--rate", type=_positive_float, default=50.0,
                   help="at most this many live events per second (default 50)")
    p.add_argument("--days-per-minute", type=_days_per_minute, default=1.0, metavar="DAYS",
                   help="simulated days per wall minute of the live world: each customer keeps its own event rates "
                        f"(default 1, at most {MAX_DAYS_PER_MINUTE:g}); the model's clock follows the events")
    p.add_argument("--bad-share", type=float, default=0.005,
                   help="share of deliberately invalid messages (default 0.005)")
    p.add_argument("--broker-port", type=_positive_int,
                   help="port of the embedded broker (default 9092, or the next free one)")
    p.add_argument("--dashboard-port", type=_positive_int,
                   help="port of the dashboard (default 8501, or the next free one)")
    p.add_argument("--no-dashboard", action="store_true", help="do not start the dashboard")
    p.add_argument("--status-interval", type=_positive_float, default=10.0, metavar="SECONDS",
                   help="seconds between status lines (default 10)")
    p.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    if not 0.0 <= args.bad_share < 1.0:
        raise UserError(f"--bad-share must be in [0, 1), got {args.bad_share}")
    settings = settings_from_args(args)
    options = DemoOptions(
        customers=args.customers, seed=args.seed, history_days=args.history_days, rate=args.rate,
        days_per_minute=args.days_per_minute, bad_share=args.bad_share, broker_port=args.broker_port,
        bootstrap_servers=args.bootstrap_servers, dashboard=not args.no_dashboard,
        dashboard_port=args.dashboard_port, config=args.config, status_interval_s=args.status_interval,
        verbose=args.verbose,
    )
    return run_demo(settings, options)
