"""`customer-health simulate` to JSONL: reproducible output, gap fill with --since, resuming with --state."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from customer_health.cli import main
from customer_health.commands.simulate import SimulatorState, history_since, occurred_at, read_state
from customer_health.simulate import SimulationSettings, generate_history

END = "2026-03-01T12:00:00Z"
SMALL = ["--customers", "40", "--history-days", "20", "--end", END]


def run(*args: str) -> int:
    return main(["simulate", *args])


def lines(directory: Path) -> dict[str, list[bytes]]:
    return {p.stem: p.read_bytes().splitlines() for p in sorted(directory.glob("*.jsonl"))}


def test_jsonl_output_is_reproducible_and_holds_history_then_live(tmp_path: Path, capsys) -> None:
    assert run(*SMALL, "--jsonl", str(tmp_path / "a"), "--live-seconds", "4", "--rate", "25", "--json") == 0
    totals = json.loads(capsys.readouterr().out)
    assert run(*SMALL, "--jsonl", str(tmp_path / "b"), "--live-seconds", "4", "--rate", "25") == 0
    a, b = lines(tmp_path / "a"), lines(tmp_path / "b")
    assert a == b and set(a) == {"customers", "tickets", "payments", "visits"}
    docs = [json.loads(raw) for topic in a.values() for raw in topic]
    assert len(docs) == totals["history_events"] + totals["live_events"]
    assert totals["live_events"] == 100  # 4 s at 25 events/s
    end_epoch = int(datetime.fromisoformat(END).timestamp())
    history = [d for d in docs if d["event_id"].startswith(f"42h{end_epoch}-")]
    live = [d for d in docs if d["event_id"].startswith(f"42l{end_epoch}-")]
    assert len(history) == totals["history_events"] and len(live) == 100
    assert len({d["event_id"] for d in docs}) == len(docs)
    assert all(occurred(d) >= datetime.fromisoformat(END) for d in live)


def test_days_per_minute_writes_the_live_world_of_that_many_simulated_days(tmp_path: Path, capsys) -> None:
    """2 wall seconds at 60 simulated days a minute: 2 days of the world at each customer's own rates."""
    assert run(*SMALL, "--jsonl", str(tmp_path / "w"), "--live-seconds", "2", "--days-per-minute", "60",
               "--json") == 0
    totals = json.loads(capsys.readouterr().out)
    end = datetime.fromisoformat(END)
    docs = [json.loads(raw) for topic in lines(tmp_path / "w").values() for raw in topic]
    live = [d for d in docs if d["event_id"].startswith(f"42l{int(end.timestamp())}-")]
    assert len(live) == totals["live_events"] > 0
    assert all(end <= occurred(d) < end + timedelta(days=2) for d in live)
    history = [d for d in docs if not d["event_id"].startswith("42l") and occurred(d) >= end - timedelta(days=2)]
    assert 0.6 * len(history) <= len(live) <= 1.5 * len(history)  # the last two days' rate, not --rate's


def occurred(doc: dict) -> datetime:
    return datetime.fromisoformat(doc["occurred_at"]).astimezone(UTC)


def test_since_sends_only_the_history_after_it(tmp_path: Path) -> None:
    assert run(*SMALL, "--jsonl", str(tmp_path / "all")) == 0
    since = "2026-02-25T00:00:00Z"
    assert run(*SMALL, "--jsonl", str(tmp_path / "gap"), "--since", since) == 0
    full = [json.loads(r) for t in lines(tmp_path / "all").values() for r in t]
    gap = [json.loads(r) for t in lines(tmp_path / "gap").values() for r in t]
    cut = datetime.fromisoformat(since)
    assert gap and all(occurred(d) >= cut for d in gap)
    assert sorted(d["event_id"] for d in gap) == sorted(d["event_id"] for d in full if occurred(d) >= cut)


def test_state_file_resumes_after_the_last_event_and_guards_the_population(tmp_path: Path, capsys) -> None:
    state = tmp_path / "state.json"
    assert run(*SMALL, "--jsonl", str(tmp_path / "1"), "--state", str(state), "--live-seconds", "2") == 0
    first = read_state(state)
    assert first is not None and (first.seed, first.customers) == (42, 40)
    assert first.last_event_at is not None and first.last_event_at > datetime.fromisoformat(END)
    later = "2026-03-03T12:00:00Z"  # two days later: only those two days of history are missing
    assert run("--customers", "40", "--history-days", "20", "--end", later, "--jsonl", str(tmp_path / "2"),
               "--state", str(state)) == 0
    resumed = [json.loads(r) for t in lines(tmp_path / "2").values() for r in t]
    assert resumed and all(occurred(d) >= first.last_event_at for d in resumed)
    capsys.readouterr()
    assert run("--customers", "41", "--end", later, "--jsonl", str(tmp_path / "3"), "--state", str(state)) == 1
    assert "seed 42 with 40 customers" in capsys.readouterr().err


def test_a_broken_state_file_is_named(tmp_path: Path, capsys) -> None:
    state = tmp_path / "state.json"
    state.write_text("{not json")
    assert run(*SMALL, "--jsonl", str(tmp_path / "x"), "--state", str(state)) == 1
    assert "is not a simulator state file" in capsys.readouterr().err


def test_state_round_trips() -> None:
    state = SimulatorState(7, 12, datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert json.loads(state.to_json())["last_event_at"] == "2026-01-02T03:04:05Z"


def test_invalid_copies_share_the_fate_of_the_event_they_copy() -> None:
    sim = SimulationSettings(customers=60, history_days=10, bad_event_share=0.3)
    events = list(generate_history(sim, datetime(2026, 3, 1, tzinfo=UTC)))
    cut = datetime(2026, 2, 26, tzinfo=UTC)
    keep = list(history_since(events, cut))
    kept = {id(e) for e in keep}
    assert 0 < len(keep) < len(events)
    unreadable = 0
    for i, event in enumerate(events):
        moment = occurred_at(event)
        if moment is not None:
            assert (id(event) in kept) == (moment >= cut)
        elif i > 0:  # an invalid copy without a readable time goes where the message before it went
            unreadable += 1
            assert (id(event) in kept) == (id(events[i - 1]) in kept)
    assert unreadable > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bad-share", "1.5"], "--bad-share must be in [0, 1)"),
        (["--since", "yesterday"], "not an RFC 3339 time"),
        (["--end", "2026-01-01T00:00:00"], "give a time zone offset"),
        (["--customers", "0"], "must be >= 1"),
        (["--days-per-minute", "0"], "must be > 0 and at most 60"),
        (["--days-per-minute", "61"], "must be > 0 and at most 60"),
    ],
)
def test_bad_options_are_one_line_errors(tmp_path: Path, capsys, args: list[str], message: str) -> None:
    try:
        code = run(*args, "--jsonl", str(tmp_path / "x"))
    except SystemExit as exc:  # argparse errors exit 2
        code = int(exc.code or 0)
    assert code in (1, 2)
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_the_demo_s_fast_live_clock_is_not_warned_about_on_the_events_clock(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The demo's simulator once warned that its events would be quarantined after about 2.5 days: on the
    events clock the pipeline measures the future from the model's clock, which follows the live world."""
    from customer_health.commands.simulate import _warn_if_ahead
    from customer_health.config import Settings, load_settings
    from customer_health.demo import Demo, DemoOptions

    env = Demo(Settings(db_path=tmp_path / "d.duckdb"), DemoOptions())._env(15432)
    demo = load_settings(None, env={k: v for k, v in env.items() if k.startswith("CUSTOMER_HEALTH_")})
    fast = SimulationSettings(speed=1440.0)
    now = datetime.now(UTC)
    with caplog.at_level("WARNING", logger="customer_health"):
        _warn_if_ahead(fast, now, demo)
        assert caplog.messages == []
        _warn_if_ahead(fast, now, demo.with_overrides(quality__future_tolerance_minutes=10.0))  # 0.4 s of it
        assert len(caplog.messages) == 1 and "covers only 0.4 s" in caplog.messages[0]
        caplog.clear()
        _warn_if_ahead(fast, now, Settings())  # a wall-clock pipeline: quarantined after 0.4 s
        assert len(caplog.messages) == 1 and "after 0 s its events are more than 10 minutes in the future" \
            in caplog.messages[0]
