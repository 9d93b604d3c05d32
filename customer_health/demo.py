"""The one-command live demo: embedded broker, pipeline, simulator and dashboard as child processes.

Every child is a `customer-health` subcommand in a session (process group) of its own, so a terminal's
Ctrl-C reaches only the demo, which then stops them in order: simulator, dashboard, pipeline (it lands
its open batch), broker. A child still running after its grace period is killed with its whole group,
and on Linux each child also receives SIGTERM should the demo itself die (PR_SET_PDEATHSIG): no orphans.

The data stays in the database, and a rerun continues it. The population must be the same (checked
against the simulator's state file next to the database); the simulator then sends only the history
after the newest stored event (the gap since the last run), under event ids it never used before (they
carry the seed and the start time). The broker keeps topics in memory, so a rerun's topics are new:
the pipeline recognises them by their topic ids and starts them from the beginning.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import duckdb

from customer_health.clock import model_now
from customer_health.commands.simulate import check_state
from customer_health.config import Settings
from customer_health.db import endpoint_path, open_reader
from customer_health.errors import UserError
from customer_health.sqlfiles import Statements
from ingest.broker import free_port, port_open

DEFAULT_BROKER_PORT = 9092
DEFAULT_DASHBOARD_PORT = 8501
RECENT_MOVES_S = 60  # the status line counts segment moves over this many wall seconds of simulated time
# Events may lie this many wall minutes' worth of the simulated clock ahead of the model's clock before they
# count as future ones (the live world's clock runs --days-per-minute days per wall minute).
FUTURE_TOLERANCE_WALL_MINUTES = 10.0
STOP_GRACE_S = {"simulator": 15.0, "dashboard": 10.0, "pipeline": 45.0, "broker": 10.0}

_PR_SET_PDEATHSIG = 1
try:  # loaded now: a forked child must not dlopen (another thread may hold the loader lock)
    _LIBC: Any = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
except OSError:
    _LIBC = None


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the demo process dies, however it dies."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


@dataclass(frozen=True)
class DemoOptions:
    customers: int = 500
    seed: int = 42
    history_days: int = 150
    rate: float = 50.0  # at most this many live events per wall second
    days_per_minute: float = 1.0  # simulated days per wall minute of the live world
    bad_share: float = 0.005
    # The live drifters all turn bad within this many seconds: drifting shows in the first minute.
    live_drift_within: float = 45.0
    broker_port: int | None = None  # None: 9092 when free, else the next free port
    bootstrap_servers: str | None = None  # an existing broker instead of the embedded one
    dashboard: bool = True
    dashboard_port: int | None = None  # None: 8501 when free, else the next free port
    config: Path | None = None
    status_interval_s: float = 10.0
    verbose: bool = False


def future_tolerance_minutes(options: DemoOptions) -> float:
    """The demo pipeline's ``quality.future_tolerance_minutes``: an event from the future lies beyond the model's
    clock (before its batch) by more than FUTURE_TOLERANCE_WALL_MINUTES of the live world's clock."""
    return FUTURE_TOLERANCE_WALL_MINUTES * options.days_per_minute * 24 * 60


def state_path(db_path: Path) -> Path:
    """The simulator's state file of a demo database (population and last event time)."""
    return db_path.with_name(db_path.name + ".simulator.json")


def logs_dir(db_path: Path) -> Path:
    return db_path.parent / "logs"


def first_free_port(preferred: int, host: str = "127.0.0.1", tries: int = 20) -> int:
    """``preferred`` when nothing listens on it, else the next free one (else any free port)."""
    for port in range(preferred, preferred + tries):
        if not port_open(host, port, timeout=0.2):
            return port
    return free_port(host)


# --- child processes ---------------------------------------------------------------------------------------


@dataclass
class Child:
    """A process (a `customer-health` subcommand in the demo) in a process group of its own, logging to a file."""

    name: str
    command: list[str]
    log_path: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        self._log.write(f"\n--- {stamp} {' '.join(self.command)}\n".encode())
        self._log.flush()
        self.process = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, env=self.env,
            start_new_session=True, preexec_fn=_die_with_parent,
        )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self, grace_s: float, force: bool = False) -> None:
        """SIGTERM to the group, SIGKILL after ``grace_s`` (at once with ``force``); then nothing of the
        group is left, grandchildren included."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self._signal_group(signal.SIGKILL if force else signal.SIGTERM)
            try:
                self.process.wait(grace_s)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.process.wait()
        deadline = time.monotonic() + 2.0
        while self._group_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if self._group_alive():
            self._signal_group(signal.SIGKILL)
        if self._log is not None:
            self._log.close()
            self._log = None

    def _signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.rstrip().splitlines()[-lines:])


class ChildFailed(Exception):
    def __init__(self, child: Child) -> None:
        super().__init__(f"the {child.name} exited with code {child.exit_code()}")
        self.child = child


class Stopped(Exception):
    """The demo was asked to stop (Ctrl-C or SIGTERM) while starting."""


# --- the demo ---------------------------------------------------------------------------------------------


class Demo:
    def __init__(self, settings: Settings, options: DemoOptions, out: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.options = options
        self.out = out or (lambda line: print(line, flush=True))
        self.stop_requested = threading.Event()
        self.force = False
        self.children: list[Child] = []
        self.reader: Statements | None = None
        self.quack_uri: str | None = None

    # signals: the first asks for a clean stop, a second one kills what is left at once
    def _on_signal(self, signum: int, frame: object) -> None:
        if self.stop_requested.is_set():
            self.force = True
        self.stop_requested.set()

    def run(self) -> int:
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            since = self._prepare()
            try:
                self._start_all(since)
                self._watch()
                return 0
            except Stopped:
                return 0
            except ChildFailed as failed:
                self.out(f"demo: {failed}; last lines of {failed.child.log_path}:")
                self.out(failed.child.log_tail())
                return 1
            finally:
                self._stop_all()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    # --- before anything starts

    def _prepare(self) -> datetime | None:
        """Checks the database can host this demo; returns the time after which history is still missing."""
        settings, options = self.settings, self.options
        if not settings.quack.enabled:
            raise UserError("the demo needs the pipeline to serve the database: set quack.enabled = true")
        endpoint = endpoint_path(settings.db_path)
        with contextlib.suppress(FileNotFoundError, ValueError, KeyError, ProcessLookupError, PermissionError):
            info = json.loads(endpoint.read_text(encoding="utf-8"))
            pid = int(info["pid"])
            os.kill(pid, 0)
            host, _, port = str(info["uri"]).removeprefix("quack:").rpartition(":")
            if port_open(_connect_host(host), int(port)):
                raise UserError(f"a pipeline (pid {pid}) already serves {settings.db_path}: stop it first, "
                                "or give the demo another database with --db")
        state = check_state(state_path(settings.db_path), options.seed, options.customers)
        if not settings.db_path.exists():
            return None
        db = open_reader(settings)  # no pipeline runs: the file, read-only, closed before one starts
        try:
            landed = sum(db.one("status/landed_counts") or (0,))
            (last,) = db.one("demo/last_event_at") or (None,)
        finally:
            db.close()
        if landed and state is None:
            raise UserError(f"{settings.db_path} holds {landed:,} events the demo did not create: give the demo "
                            "its own database with --db (e.g. --db data/demo.duckdb)")
        return last.replace(tzinfo=UTC) if last is not None else None

    # --- starting

    def _env(self, quack_port: int) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        env["CUSTOMER_HEALTH_QUACK__PORT"] = str(quack_port)
        # The model's now is the simulated clock, which runs ahead of the wall clock. The database records the
        # source with its model clock, so every command run beside the demo reads the same now.
        env["CUSTOMER_HEALTH_CLOCK__SOURCE"] = "events"
        env["CUSTOMER_HEALTH_QUALITY__FUTURE_TOLERANCE_MINUTES"] = f"{future_tolerance_minutes(self.options):g}"
        return env

    def _common(self, bootstrap: str) -> list[str]:
        args = ["--db", str(self.settings.db_path), "--bootstrap-servers", bootstrap]
        if self.options.config is not None:
            args += ["--config", str(self.options.config)]
        if self.options.verbose:
            args.append("-v")
        return args

    def _child(self, name: str, argv: list[str], env: dict[str, str]) -> Child:
        command = [sys.executable, "-m", "customer_health.cli", *argv]
        child = Child(name, command, logs_dir(self.settings.db_path) / f"{name}.log", env)
        self.children.append(child)
        child.start()
        return child

    def _start_all(self, since: datetime | None) -> None:
        settings, options = self.settings, self.options
        quack_port = first_free_port(settings.quack.port, settings.quack.host)
        env = self._env(quack_port)
        self.out(f"customer-health demo: database {settings.db_path}, logs in {logs_dir(settings.db_path)}/")

        if options.bootstrap_servers:
            bootstrap = options.bootstrap_servers
            self.out(f"  broker     {bootstrap} (existing)")
        else:
            port = options.broker_port or first_free_port(DEFAULT_BROKER_PORT)
            broker = self._child("broker", ["broker", "--port", str(port), *self._common(f"127.0.0.1:{port}")], env)
            self._wait(lambda: port_open("127.0.0.1", port), 30, "the broker to listen", broker)
            bootstrap = f"127.0.0.1:{port}"
            self.out(f"  broker     {bootstrap} (embedded, memory storage)")

        common = self._common(bootstrap)
        pipeline = self._child("pipeline", ["ingest", *common], env)
        self.quack_uri = self._wait(lambda: self._serving(pipeline), 90, "the pipeline to serve", pipeline)
        self.out(f"  pipeline   consuming {bootstrap}, serving {self.quack_uri}")

        sim_args = [
            "simulate", "--customers", str(options.customers), "--seed", str(options.seed),
            "--history-days", str(options.history_days), "--rate", f"{options.rate:g}",
            "--days-per-minute", f"{options.days_per_minute:g}", "--bad-share", f"{options.bad_share:g}",
            "--live-drift-within", f"{options.live_drift_within:g}",
            "--state", str(state_path(settings.db_path)), *common,
        ]
        if since is not None:
            sim_args += ["--since", since.isoformat()]
        self._child("simulator", sim_args, env)
        history = (f"history since {since:%Y-%m-%d %H:%M:%S} UTC (continuing the stored data)" if since
                   else f"{options.history_days} days of history")
        self.out(f"  simulator  {options.customers:,} customers (seed {options.seed}): {history}, "
                 f"then live at {options.days_per_minute:g} simulated day(s) per minute (at most {options.rate:g} "
                 "events/s); the model's clock follows the events")

        if not options.dashboard:
            self.out("  dashboard  not started (--no-dashboard)")
        else:
            port = options.dashboard_port or first_free_port(DEFAULT_DASHBOARD_PORT)
            host = _connect_host(getattr(getattr(settings, "dashboard", None), "host", "127.0.0.1"))
            dashboard = self._child("dashboard", ["dashboard", "--port", str(port), *common], env)
            self._wait(lambda: port_open(host, port), 90, "the dashboard to listen", dashboard)
            self.out(f"  dashboard  http://{host}:{port}")
        self.out("Ctrl-C to stop; the data stays for the next run.")

    def _serving(self, pipeline: Child) -> str | None:
        """The pipeline's Quack URI once it serves (its endpoint file names its pid and the port is open)."""
        try:
            info = json.loads(endpoint_path(self.settings.db_path).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        if info.get("pid") != pipeline.pid:
            return None
        host, _, port = str(info["uri"]).removeprefix("quack:").rpartition(":")
        return str(info["uri"]) if port_open(_connect_host(host), int(port)) else None

    def _wait(self, ready: Callable[[], Any], timeout_s: float, what: str, child: Child) -> Any:
        deadline = time.monotonic() + timeout_s
        while True:
            if self.stop_requested.is_set():
                raise Stopped()
            if not child.running():
                raise ChildFailed(child)
            result = ready()
            if result:
                return result
            if time.monotonic() > deadline:
                raise UserError(f"timed out after {timeout_s:.0f} s waiting for {what} (see {child.log_path})")
            self.stop_requested.wait(0.2)

    # --- running

    def _watch(self) -> None:
        next_status = time.monotonic() + self.options.status_interval_s
        while not self.stop_requested.wait(0.5):
            for child in self.children:
                code = child.exit_code()
                if code is None or (child.name == "simulator" and code == 0):
                    continue
                raise ChildFailed(child)
            if time.monotonic() >= next_status:
                next_status = time.monotonic() + self.options.status_interval_s
                line = self.status_line()
                if line:
                    self.out(line)

    def _statements(self) -> Statements:
        if self.reader is None:
            self.reader = open_reader(self.settings, uri=self.quack_uri)
        return self.reader

    def _read(self, name: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        reader = self._statements()
        try:
            return reader.rows(name, params)
        except duckdb.Error:
            self._close_reader()
            raise

    def _close_reader(self) -> None:
        if self.reader is not None:
            with contextlib.suppress(duckdb.Error):
                self.reader.close()
            self.reader = None

    def landed_total(self) -> int | None:
        try:
            return sum(self._read("status/landed_counts")[0])
        except (duckdb.Error, UserError):
            return None

    def status_line(self) -> str | None:
        """What has landed and, once the health model runs, the segment mix and how many drift."""
        try:
            tickets, payments, visits, customers = self._read("status/landed_counts")[0]
        except (duckdb.Error, UserError):
            return None
        try:
            model_time = model_now(self._statements())
        except (duckdb.Error, UserError):
            self._close_reader()
            return None
        line = (f"[{datetime.now():%H:%M:%S}] model time {model_time:%Y-%m-%d %H:%M} UTC; "
                f"landed {tickets + payments + visits + customers:,} events "
                f"(tickets {tickets:,}, payments {payments:,}, visits {visits:,}, profiles {customers:,})")
        try:
            segments = self._read("demo/segments")
        except (duckdb.Error, UserError):
            return line
        if segments:
            mix = ", ".join(f"{name} {n:,}" for name, n, _ in segments)
            line += f"; segments: {mix}; drifting {sum(d for _, _, d in segments):,}"
        simulated = timedelta(seconds=RECENT_MOVES_S * self.options.days_per_minute * 1440)
        try:
            moves = self._read("demo/recent_moves", {"since": model_time - simulated})
        except (duckdb.Error, UserError):
            return line
        if moves:
            line += (f"; moved in the last {RECENT_MOVES_S} s ({simulated.total_seconds() / 86400:g} simulated days): "
                     + ", ".join(f"{n:,} to {segment}" for segment, n in moves))
        return line

    # --- stopping

    def _stop_all(self) -> None:
        if not self.children:
            return
        by_name = {c.name: c for c in self.children}
        order = [n for n in ("simulator", "dashboard", "pipeline", "broker") if n in by_name]
        self.out("stopping " + ", ".join(order) + " ...")
        simulator = by_name.get("simulator")
        if simulator is not None:
            simulator.stop(STOP_GRACE_S["simulator"], force=self.force)
            if not self.force and by_name.get("pipeline") and by_name["pipeline"].running():
                self._let_pipeline_catch_up()
        self._close_reader()
        for name in ("dashboard", "pipeline", "broker"):
            if name in by_name:
                by_name[name].stop(STOP_GRACE_S[name], force=self.force)
        for child in self.children:  # anything started under another name
            child.stop(5.0, force=True)
        self.out(f"stopped; the data stays in {self.settings.db_path} (run the demo again to continue)")

    def _let_pipeline_catch_up(self, quiet_s: float = 1.0, limit_s: float = 10.0) -> None:
        """Wait (bounded) until nothing new lands: what the simulator sent is in the database, not lost with
        the in-memory broker."""
        deadline = time.monotonic() + limit_s
        last, since = self.landed_total(), time.monotonic()
        while time.monotonic() < deadline and not self.force:
            time.sleep(0.25)
            now = self.landed_total()
            if now is None:
                return
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                return


def _connect_host(host: str) -> str:
    """Where to connect for a server listening on ``host`` (a wildcard address means this machine)."""
    return "127.0.0.1" if host in ("0.0.0.0", "", "::", "*") else host


def run_demo(settings: Settings, options: DemoOptions) -> int:
    """Run the demo until Ctrl-C or SIGTERM; 0 after a clean stop, 1 when a child failed."""
    return Demo(settings, options).run()
