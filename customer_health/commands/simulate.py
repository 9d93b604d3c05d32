"""`customer-health simulate`: the seeded archetype population as events, to Kafka or to JSONL files.

First the history (every customer's profile, then ``--history-days`` of activity) as fast as the broker
takes it, then live events at ``--rate`` per wall second on a clock running ``--speed`` times real time.
The same options give the same population; event ids are ``<seed>h<history end>-<n>`` (history) and
``<seed>l<live start>-<n>`` (live), so a later run never repeats an earlier run's ids.

Resuming: ``--since T`` sends only the history after T (the gap since an earlier run stopped);
``--state FILE`` remembers the population and the last event time across runs and does that by itself.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import chain, islice, takewhile
from pathlib import Path
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from customer_health.cliutil import print_json, settings_from_args
from customer_health.config import KafkaSettings, Settings
from customer_health.errors import UserError
from customer_health.progress import progress
from customer_health.simulate import (
    SimEvent,
    SimulationSettings,
    generate_history,
    generate_live,
    generate_world,
    produce,
    write_jsonl,
)
from ingest.broker import ensure_topics

log = logging.getLogger(__name__)

STATE_SAVE_INTERVAL_S = 5.0
DAY_S = 86400.0
MAX_DAYS_PER_MINUTE = 60.0  # simulated days per wall minute of the live world


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "simulate", parents=[common],
        help="produce realistic events (history, then live) to Kafka or JSONL files",
        description="Seeded archetype population: champions, quiet payers, how-to heavy, terrorists, faders, "
                    "bad payers, households, drifters. History first, as fast as possible, then live events.",
    )
    p.add_argument("--customers", type=_positive_int, default=500, help="population size (default 500)")
    p.add_argument("--seed", type=int, default=42, help="population and event seed (default 42)")
    p.add_argument("--history-days", type=_positive_int, default=90, help="days of history to backfill (default 90)")
    p.add_argument("--rate", type=_positive_float, default=50.0, help="live events per wall second (default 50)")
    p.add_argument("--speed", type=_positive_float, default=1.0,
                   help="simulated seconds per wall second of the live clock (default 1: real time); above 1 "
                        "event times run ahead of the wall clock, so start in the past with --end")
    p.add_argument("--days-per-minute", type=_days_per_minute, metavar="DAYS",
                   help="live world instead of the fixed-rate stream: every customer keeps its own event rates on a "
                        f"clock running DAYS simulated days per wall minute (> 0, at most {MAX_DAYS_PER_MINUTE:g}); "
                        "--rate then caps the events per second, --speed is ignored")
    p.add_argument("--bad-share", type=float, default=0.0,
                   help="share of deliberately invalid messages, in [0, 1) (default 0)")
    p.add_argument("--live-drift-within", type=_positive_float, default=90.0, metavar="SECONDS",
                   help="the live drifters turn bad within this many wall seconds of the live start (default 90)")
    p.add_argument("--end", type=_timestamp, metavar="TIME",
                   help="end of the history window and start of the live clock, RFC 3339 (default: now; "
                        "fix it for reproducible output)")
    p.add_argument("--since", type=_timestamp, metavar="TIME",
                   help="send only history events at or after TIME (fills the gap since an earlier run)")
    p.add_argument("--state", type=Path, metavar="FILE",
                   help="remember the population and the last event time in FILE; a later run with the same "
                        "FILE resumes after it (implies --since) and refuses a different --seed/--customers")
    p.add_argument("--jsonl", type=Path, metavar="DIR",
                   help="write <topic>.jsonl files into DIR (for `customer-health load`) instead of Kafka")
    live = p.add_mutually_exclusive_group()
    live.add_argument("--no-live", action="store_true", help="stop after the history")
    live.add_argument("--live-seconds", type=_positive_float, metavar="N",
                      help="stop after N wall seconds of live events (with --jsonl: the events of N seconds; "
                           "without it --jsonl writes the history only)")
    p.add_argument("--json", action="store_true", help="print the totals as JSON")
    p.set_defaults(handler=cmd_simulate)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def _days_per_minute(text: str) -> float:
    value = float(text)
    if not 0 < value <= MAX_DAYS_PER_MINUTE:
        raise argparse.ArgumentTypeError(f"must be > 0 and at most {MAX_DAYS_PER_MINUTE:g}, got {text}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _timestamp(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an RFC 3339 time: {text!r} (e.g. 2026-01-31T12:00:00Z)") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a time zone offset in {text!r} (e.g. ...Z or ...+01:00)")
    return moment.astimezone(UTC)


# --- resuming ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimulatorState:
    """What a state file remembers: the population (seed, customers) and the newest event time sent."""

    seed: int
    customers: int
    last_event_at: datetime | None

    def to_json(self) -> str:
        last = self.last_event_at.isoformat().replace("+00:00", "Z") if self.last_event_at else None
        return json.dumps({"seed": self.seed, "customers": self.customers, "last_event_at": last}, indent=2)


def read_state(path: Path) -> SimulatorState | None:
    """The state in ``path``; None when there is no file. UserError for a file that is not a state file."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        last = doc.get("last_event_at")
        return SimulatorState(
            seed=int(doc["seed"]), customers=int(doc["customers"]),
            last_event_at=datetime.fromisoformat(last.replace("Z", "+00:00")) if last else None,
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UserError(f"{path} is not a simulator state file ({exc}); delete it to start afresh") from None


def check_state(path: Path, seed: int, customers: int) -> SimulatorState | None:
    """The state in ``path`` if it describes the same population; UserError naming both otherwise."""
    state = read_state(path)
    if state is not None and (state.seed, state.customers) != (seed, customers):
        raise UserError(
            f"{path} records a population of seed {state.seed} with {state.customers} customers, not seed {seed} "
            f"with {customers}: rerun with --seed {state.seed} --customers {state.customers}, or use another "
            "database/state file to start afresh"
        )
    return state


def write_state(path: Path, state: SimulatorState) -> None:
    """Replace ``path`` atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(state.to_json() + "\n", encoding="utf-8")
    os.replace(tmp, path)


def occurred_at(event: SimEvent) -> datetime | None:
    """The event's occurred_at (UTC), or None for a message that does not carry a readable one."""
    try:
        text = json.loads(event.value)["occurred_at"]
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def history_since(events: Iterable[SimEvent], since: datetime | None) -> Iterator[SimEvent]:
    """The history events at or after ``since`` (all of them for None).

    A deliberately invalid message follows the good event it copies and shares its fate, even when it
    carries no readable time of its own.
    """
    if since is None:
        yield from events
        return
    keep = False
    for event in events:
        moment = occurred_at(event)
        if moment is not None:
            keep = moment >= since
        if keep:
            yield event


class _Clock:
    """The newest event time seen in a stream of ``(time, event)`` pairs or history events."""

    def __init__(self) -> None:
        self.latest: datetime | None = None

    def watch_live(self, items: Iterable[tuple[datetime, SimEvent]]) -> Iterator[tuple[datetime, SimEvent]]:
        for moment, event in items:
            self.latest = moment
            yield moment, event

    def advance(self, moment: datetime) -> None:
        if self.latest is None or moment > self.latest:
            self.latest = moment


# --- sinks ----------------------------------------------------------------------------------------------


class _CheckedProducer:
    """kafka-python's producer, counting failed deliveries (``produce`` does not look at the futures)."""

    def __init__(self, kafka: KafkaSettings) -> None:

        try:
            self.producer = KafkaProducer(**kafka.client_options(), linger_ms=5,
                                          client_id="customer-health-simulator")
        except KafkaError as exc:
            raise UserError(f"cannot connect a producer to Kafka at {kafka.bootstrap_servers}: {exc}") from None
        self.failed = 0
        self.first_error: BaseException | None = None

    def _failed(self, exc: BaseException) -> None:
        self.failed += 1
        self.first_error = self.first_error or exc

    def send(self, topic: str, value: bytes | None = None, key: bytes | None = None) -> Any:
        future = self.producer.send(topic, value=value, key=key)
        future.add_errback(self._failed)
        return future

    def flush(self, timeout: float | None = None) -> None:
        self.producer.flush(timeout)

    def close(self) -> None:
        self.producer.close(timeout=10)


def _stop_on_signals(stop: threading.Event) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, frame: stop.set())


def cmd_simulate(args: argparse.Namespace) -> int:
    if not 0.0 <= args.bad_share < 1.0:
        raise UserError(f"--bad-share must be in [0, 1), got {args.bad_share}")
    world = args.days_per_minute is not None
    sim = SimulationSettings(
        customers=args.customers, seed=args.seed, history_days=args.history_days, rate_per_second=args.rate,
        speed=args.days_per_minute * DAY_S / 60 if world else args.speed, bad_event_share=args.bad_share,
        live_drift_within_seconds=args.live_drift_within,
    )
    since: datetime | None = args.since
    if args.state is not None:
        state = check_state(args.state, args.seed, args.customers)
        if since is None and state is not None:
            since = state.last_event_at
    end = args.end or datetime.now(UTC)
    if args.jsonl is not None:
        totals = _to_jsonl(sim, args, end, since)
    else:
        totals = _to_kafka(sim, args, end, since)
    if args.json:
        print_json(totals)
    else:
        where = totals["destination"]
        print(f"sent {totals['history_events']:,} history and {totals['live_events']:,} live events to {where}",
              flush=True)
    return 0


def _to_jsonl(sim: SimulationSettings, args: argparse.Namespace, end: datetime, since: datetime | None) -> dict:
    clock = _Clock()
    counted = {"history": 0, "live": 0}

    def count(kind: str, items: Iterable[Any]) -> Iterator[Any]:
        for item in items:
            counted[kind] += 1
            yield item

    history = count("history", history_since(generate_history(sim, end), since))
    if not args.live_seconds or args.no_live:
        live_items: Iterable[tuple[datetime, SimEvent]] = ()
    elif args.days_per_minute is not None:
        until = end + timedelta(seconds=args.live_seconds * sim.speed)
        live_items = takewhile(lambda item: item[0] < until, generate_world(sim, end))
    else:
        live_items = islice(generate_live(sim, end), int(args.live_seconds * sim.rate_per_second))
    live = count("live", clock.watch_live(live_items))
    with progress(f"writing events to {args.jsonl}", unit="events") as shown:
        paths = write_jsonl(shown.track(chain(history, live)), args.jsonl)
    clock.advance(max(end, since) if since else end)
    if args.state is not None:
        write_state(args.state, SimulatorState(sim.seed, sim.customers, clock.latest))
    return {"destination": str(args.jsonl), "files": {t: str(p) for t, p in paths.items()},
            "history_events": counted["history"], "live_events": counted["live"],
            "last_event_at": clock.latest.isoformat() if clock.latest else None}


def _to_kafka(sim: SimulationSettings, args: argparse.Namespace, end: datetime, since: datetime | None) -> dict:
    settings = settings_from_args(args)
    kafka = settings.kafka
    stop = threading.Event()
    _stop_on_signals(stop)
    ensure_topics(kafka)
    producer = _CheckedProducer(kafka)
    topics = kafka.topics.by_type()
    clock = _Clock()
    history_sent = live_sent = 0
    try:
        if since is None or since < end:
            started = time.monotonic()
            with progress("sending the history", unit="events") as shown:
                history_sent = produce(shown.track(history_since(generate_history(sim, end), since)), producer,
                                       topics, stop=stop)
            _check_delivery(producer, kafka)
            clock.advance(end)
            log.info("history: %d events sent in %.1f s%s", history_sent, time.monotonic() - started,
                     f" (since {since.isoformat()})" if since else "")
        else:
            clock.advance(since)
        if args.state is not None:
            write_state(args.state, SimulatorState(sim.seed, sim.customers, clock.latest))
        if not args.no_live and not stop.is_set():
            # Without --end the live clock starts now, after the history: event times track the wall clock.
            live_start = end if args.end else max(end, datetime.now(UTC))
            if since is not None:  # a live world's clock may have run ahead of the wall clock: never go back
                live_start = max(live_start, since)
            stream = (generate_world if args.days_per_minute is not None else generate_live)(sim, live_start)
            if args.live_seconds:
                timer = threading.Timer(args.live_seconds, stop.set)
                timer.daemon = True
                timer.start()
            log.info("live: %.0f events/s, clock at %gx real time, from %s; Ctrl-C to stop",
                     sim.rate_per_second, sim.speed, live_start.isoformat())
            _warn_if_ahead(sim, live_start, settings)
            saver = _StateSaver(args.state, sim, clock, stop) if args.state is not None else None
            try:
                with progress("sending live events", unit="events") as shown:
                    live_sent = produce(shown.track(clock.watch_live(stream)), producer,
                                        topics, rate_per_second=sim.rate_per_second, speed=sim.speed, stop=stop)
            finally:
                if saver is not None:
                    saver.finish()
            _check_delivery(producer, kafka)
    finally:
        with contextlib.suppress(Exception):
            producer.close()
    return {"destination": f"Kafka at {kafka.bootstrap_servers}", "history_events": history_sent,
            "live_events": live_sent, "failed": producer.failed,
            "last_event_at": clock.latest.isoformat() if clock.latest else None}


def _warn_if_ahead(sim: SimulationSettings, live_start: datetime, settings: Settings) -> None:
    """A clock faster than real time overtakes the wall clock. The pipeline quarantines an event beyond
    quality.future_tolerance_minutes after the later of the wall clock and the model's clock: on the wall
    clock that happens once the live clock is that far ahead; on the events clock ([clock] source = "events",
    the model's clock follows these events) only when a batch runs further ahead than that of the one before."""
    if sim.speed <= 1:
        return
    tolerance_minutes = settings.quality.future_tolerance_minutes
    if settings.clock.source == "events":
        covers_s = tolerance_minutes * 60 / sim.speed
        if covers_s < 60:
            log.warning("the live clock runs %gx real time: quality.future_tolerance_minutes = %g covers only %.1f s "
                        "of it, so live events landing more than that after the batch before are quarantined. "
                        "Raise it to at least %g.", sim.speed, tolerance_minutes, covers_s, sim.speed)
        return
    behind_s = (datetime.now(UTC) - live_start).total_seconds() + tolerance_minutes * 60
    ahead_after_s = max(0.0, behind_s / (sim.speed - 1))
    log.warning("the live clock runs %gx real time: after %.0f s its events are more than %g minutes in the future, "
                "and the pipeline quarantines them (quality.future_tolerance_minutes). Run the pipeline with "
                '[clock] source = "events" (the model\'s clock follows the events), or start further back with '
                "--end to run longer.", sim.speed, ahead_after_s, tolerance_minutes)


def _check_delivery(producer: _CheckedProducer, kafka: KafkaSettings) -> None:
    if producer.failed:
        raise UserError(f"{producer.failed:,} events were not delivered to Kafka at {kafka.bootstrap_servers} "
                        f"(first error: {producer.first_error})")


class _StateSaver(threading.Thread):
    """Writes the state file every few seconds while live events flow, and once more at the end."""

    def __init__(self, path: Path, sim: SimulationSettings, clock: _Clock, stop: threading.Event) -> None:
        super().__init__(name="state-saver", daemon=True)
        self.path, self.sim, self.clock, self.stop = path, sim, clock, stop
        self.done = threading.Event()
        self.start()

    def save(self) -> None:
        try:
            write_state(self.path, SimulatorState(self.sim.seed, self.sim.customers, self.clock.latest))
        except OSError as exc:
            sys.stderr.write(f"customer-health: cannot write {self.path}: {exc}\n")

    def run(self) -> None:
        while not self.done.wait(STATE_SAVE_INTERVAL_S):
            self.save()

    def finish(self) -> None:
        self.done.set()
        self.join()
        self.save()
