"""The pipeline against a real broker and a real DuckDB file: nothing lost, nothing landed twice."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import threading
from datetime import timedelta

import duckdb
import pytest

from customer_health.clock import utc_now
from customer_health.config import Settings
from customer_health.db import reader
from customer_health.errors import UserError
from ingest.consumer import GIL_SWITCH_INTERVAL_S, PipelineStats
from ingest.plugins import PipelineExtensions
from ingest.service import run_pipeline
from tests.conftest import REPO, Env, produce, stop_process, wait_until
from tests.factories import BAD_MESSAGES, FACTORIES, encode


def good_messages(n_per_type: int, prefix: str = "e") -> list[tuple[str, bytes, bytes]]:
    out = []
    for i in range(n_per_type):
        for event_type, make in FACTORIES.items():
            cid = f"c{i % 37}"
            out.append((event_type, cid.encode(), encode(make(f"{prefix}-{event_type}-{i}", cid))))
    return out


def landed_total(env: Env) -> int:
    result = env.cli("status", "--json")
    if result.returncode != 0:
        return 0
    status = json.loads(result.stdout)
    return sum(status["landed"].values()) + status["dead_letter"]["total"]


def count_rows(env: Env, sql: str) -> int:
    """An ad-hoc count through the product's reader: over Quack while a pipeline runs, else the file."""
    with reader(env.settings()) as db:
        if db.uri:
            return db.con.execute("select * from quack_query(?, ?)", [db.uri, sql]).fetchone()[0]
        return db.con.execute(sql).fetchone()[0]


def test_every_produced_message_is_landed_or_dead_lettered_exactly(env: Env) -> None:
    env.create_topics()
    good = good_messages(250)
    bad = [(t, b"k", raw) for t, raw, _ in BAD_MESSAGES]
    produce(env, good[:500] + bad + good[500:])
    proc = env.start_pipeline()
    try:
        wait_until(lambda: landed_total(env) >= len(good) + len(bad), message="all messages landed")
    finally:
        assert stop_process(proc) == 0, env.pipeline_log()
    status = env.status()
    assert status["landed"] == {t: 250 for t in FACTORIES}
    assert status["dead_letter"]["total"] == len(bad)
    expected_reasons: dict[str, int] = {}
    for _, _, code in BAD_MESSAGES:
        expected_reasons[code] = expected_reasons.get(code, 0) + 1
    assert status["dead_letter"]["by_reason"] == expected_reasons
    with duckdb.connect(str(env.db_path), read_only=True) as con:
        rows = con.execute(
            'select topic, "partition", "offset", raw, reason from dead_letter order by dead_letter_id'
        ).fetchall()
    assert {bytes(r[3]) for r in rows} == {raw for _, raw, _ in BAD_MESSAGES}
    assert all(r[0] and r[1] is not None and r[2] is not None and r[4] for r in rows)


def test_duplicates_and_replays_land_once(env: Env) -> None:
    env.create_topics()
    messages = good_messages(50)
    produce(env, messages + messages[:80])  # the same event ids again
    proc = env.start_pipeline()
    try:
        wait_until(lambda: landed_total(env) == 200, message="events landed")
        wait_until(lambda: env.status()["landed"]["visits"] == 50, message="visits landed")
    finally:
        assert stop_process(proc) == 0, env.pipeline_log()
    assert count_rows(env, "select sum(messages) from ingest_batches") == 280
    assert count_rows(env, "select sum(duplicates) from ingest_batches") == 80
    # A replay from offset 0 under a new consumer group: every event is a duplicate.
    config = env.config_path.read_text().replace(f'group_id = "g-{env.suffix}"', f'group_id = "r-{env.suffix}"')
    env.config_path.write_text(config)
    proc = env.start_pipeline()
    try:
        wait_until(lambda: poll_count(env, "select sum(messages) from ingest_batches") >= 560,
                   message="replay consumed")
    finally:
        assert stop_process(proc) == 0
    assert env.status()["landed"] == {t: 50 for t in FACTORIES}
    assert count_rows(env, "select count(*) from dead_letter") == 0


def test_restart_after_kill_9_resumes_without_loss_or_duplicates(env: Env) -> None:
    env.create_topics()
    total = 4000
    produce(env, good_messages(total // 4))
    proc = env.start_pipeline()
    try:
        wait_until(lambda: env.db_path.exists() and 0 < _landed_so_far(env), interval=0.05,
                   message="first batches landed")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    midway = _landed_so_far(env)
    assert midway < total, "kill came too late to test a mid-stream restart"
    produce(env, good_messages(250, prefix="late"))
    proc = env.start_pipeline()
    try:
        wait_until(lambda: _landed_so_far(env) >= total + 1000, message="all events after restart")
    finally:
        assert stop_process(proc) == 0, env.pipeline_log()
    assert count_rows(env, "select sum(duplicates) from ingest_batches") == 0
    assert count_rows(env, "select sum(messages) from ingest_batches") == total + 1000
    assert _landed_so_far(env) == total + 1000


def poll_count(env: Env, sql: str) -> int:
    """count_rows, or -1 while the database is not readable yet (being created, or the pipeline is
    between opening the file and serving it)."""
    try:
        return count_rows(env, sql)
    except (UserError, duckdb.Error):
        return -1


def _landed_so_far(env: Env) -> int:
    return max(0, poll_count(env, "select coalesce(sum(landed), 0) from ingest_batches"))


def test_sigterm_lands_the_open_batch_and_exits_0(env: Env) -> None:
    env.create_topics()
    produce(env, good_messages(100))
    proc = env.start_pipeline()
    wait_until(lambda: _landed_so_far(env) > 0, message="landing started")
    assert stop_process(proc, signal.SIGTERM) == 0, env.pipeline_log()
    landed = count_rows(env, "select sum(landed) from ingest_batches")
    offsets = count_rows(env, "select sum(next_offset) from consumer_offsets")
    assert landed == offsets  # every landed message is covered by the stored offsets, no more


def test_reader_sees_live_data_over_quack_and_a_client_without_token_is_refused(env: Env) -> None:
    env.create_topics()
    proc = env.start_pipeline()
    try:
        wait_until(lambda: (env.tmp / "health.duckdb.quack.json").exists(), message="Quack endpoint")
        produce(env, good_messages(20))
        wait_until(lambda: env.status()["landed"]["tickets"] == 20, message="first wave via Quack")
        produce(env, good_messages(20, prefix="second"))
        wait_until(lambda: env.status()["landed"]["tickets"] == 40, message="second wave via Quack")
        endpoint = json.loads((env.tmp / "health.duckdb.quack.json").read_text())
        token_file = env.tmp / "health.duckdb.token"
        assert oct(token_file.stat().st_mode & 0o777) == "0o600"
        token = token_file.read_text().strip()
        script = textwrap.dedent(f"""
            import duckdb
            from customer_health.db import load_quack
            con = duckdb.connect()
            load_quack(con)
            con.execute("create secret (type quack, token 'not-the-token')")
            con.execute("attach '{endpoint['uri']}' as remote")
            print(con.execute("select count(*) from remote.tickets").fetchone())
        """)
        refused = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO,
                                 timeout=60)
        assert refused.returncode != 0
        assert "(40,)" not in refused.stdout
        assert token not in refused.stderr
        # While the pipeline owns the file, a direct open fails: readers must go through Quack.
        with pytest.raises(duckdb.IOException):
            duckdb.connect(str(env.db_path), read_only=True)
    finally:
        assert stop_process(proc) == 0, env.pipeline_log()
    assert not (env.tmp / "health.duckdb.quack.json").exists()
    assert env.status()["landed"]["tickets"] == 40  # read-only file access once the pipeline is gone


def test_batches_land_with_short_gil_hand_offs_and_the_interval_is_restored(env: Env) -> None:
    """DuckDB's client takes the GIL back after every task of a statement; the landing thread must not wait
    Python's default 5 ms for it each time while the poll thread decodes records (bench/landing_cost.py)."""
    env.create_topics()
    produce(env, good_messages(5))
    seen: list[float] = []
    stop = threading.Event()

    def record_interval(con: duckdb.DuckDBPyConnection, settings: Settings) -> PipelineExtensions:
        return PipelineExtensions(on_landed=[lambda result: seen.append(sys.getswitchinterval())])

    before = sys.getswitchinterval()
    assert before != GIL_SWITCH_INTERVAL_S
    pipeline = threading.Thread(target=run_pipeline, args=(env.settings(), stop),
                                kwargs={"extensions": record_interval, "install_signal_handlers": False})
    pipeline.start()
    try:
        wait_until(lambda: seen, message="a batch landed")
    finally:
        stop.set()
        pipeline.join(60)
    assert not pipeline.is_alive()
    assert seen == pytest.approx([GIL_SWITCH_INTERVAL_S] * len(seen))
    assert sys.getswitchinterval() == before


def test_stats_mark_when_the_first_records_were_polled_not_when_polling_began(env: Env) -> None:
    """Throughput is measured from the poll that first returned records (bench/ingest_rate.py): polls that only
    join the group or find nothing must not start that clock, and it starts before the first batch lands."""
    env.create_topics()
    ticks = threading.Event()
    tick_count = [0]

    def count_ticks(con: duckdb.DuckDBPyConnection, settings: Settings) -> PipelineExtensions:
        def tick() -> None:
            tick_count[0] += 1
            if tick_count[0] >= 20:  # about 2 s of empty polls at the test config's 100 ms
                ticks.set()
        return PipelineExtensions(on_tick=[tick])

    stop = threading.Event()
    returned: list[PipelineStats] = []
    pipeline = threading.Thread(
        target=lambda: returned.append(run_pipeline(env.settings(), stop, extensions=count_ticks,
                                                    install_signal_handlers=False)))
    pipeline.start()
    try:
        assert ticks.wait(60), "the pipeline never polled"
        produced_at = utc_now()
        produce(env, good_messages(5))
        wait_until(lambda: count_rows(env, "select count(*) from ingest_batches") > 0, message="a batch landed")
    finally:
        stop.set()
        pipeline.join(60)
    assert not pipeline.is_alive() and returned
    first_polled_at = returned[0].first_polled_at
    with duckdb.connect(str(env.db_path), read_only=True) as con:
        first_batch_started = con.execute("select min(started_at) from ingest_batches").fetchone()[0]
    assert first_polled_at is not None
    # The poll that returned them may have started a poll timeout before they were produced (1 s: slack for a
    # poll kept longer by group housekeeping; the empty polls began seconds earlier).
    assert produced_at - timedelta(seconds=1) <= first_polled_at <= first_batch_started


def test_the_first_batch_of_a_backlog_sees_the_lag_it_belongs_to(env: Env) -> None:
    """The lag is recorded before the batch it was polled with lands: the first batch of a backlog knows it is
    one (its history points wait, its alerts are catching-up news), rather than seeing no lag at all (it was
    recorded only after the landing had begun, and not for 5 s after a poll that found no partition yet)."""
    env.create_topics()
    backlog = good_messages(2500)  # 10,000 messages, before the pipeline starts
    produce(env, backlog)
    seen: list[int] = []

    def lag_seen(con: duckdb.DuckDBPyConnection, settings: Settings) -> PipelineExtensions:
        def after_land(batch_con: duckdb.DuckDBPyConnection, ctx: object) -> None:
            row = batch_con.execute("select coalesce(sum(lag), 0) from consumer_lag").fetchone()
            seen.append(int(row[0]) if row else 0)
        return PipelineExtensions(after_land=[after_land])

    stop = threading.Event()
    settings = env.settings()
    settings = settings.with_overrides(pipeline=settings.pipeline.with_overrides(batch_max_events=1000))
    pipeline = threading.Thread(
        target=lambda: run_pipeline(settings, stop, extensions=lag_seen, install_signal_handlers=False))
    pipeline.start()
    try:
        wait_until(lambda: len(seen) >= 2, message="the backlog's first batches landed")
    finally:
        stop.set()
        pipeline.join(60)
    assert not pipeline.is_alive()
    # Tansu reports end offsets a record batch or so short per partition (../NOTES.md): about, not exactly, the
    # backlog less nothing landed yet
    assert seen[0] >= len(backlog) // 2, seen
