"""store = "ducklake" with the real engines: PostgreSQL (the catalog), the embedded broker, pipelines as
processes. A lake fed by one pipeline, or by three with one killed -9 mid-stream, answers every reader's
question as one pipeline on the file store does on the same events."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from customer_health.config import load_settings
from customer_health.db import attach_lake
from ingest.broker import free_port
from ingest.lake import lake_tables
from tests.conftest import REPO, Env, produce, stop_process, wait_until
from tests.factories import BAD_MESSAGES

AS_OF = "2026-11-20T00:00:00Z"


def simulated_events(tmp: Path, customers: int = 60, seed: int = 7) -> list[tuple[str, bytes, bytes]]:
    """(event type, key, value) of a seeded simulated population's 30 days, plus one of every bad message."""
    out_dir = tmp / "simulated"
    subprocess.run([sys.executable, "-m", "customer_health.cli", "simulate", "--customers", str(customers),
                    "--seed", str(seed), "--history-days", "30", "--end", AS_OF, "--jsonl", str(out_dir),
                    "--no-live", "--json"], check=True, capture_output=True, cwd=REPO, timeout=120)
    messages = []
    for event_type in ("customers", "tickets", "payments", "visits"):
        for line in (out_dir / f"{event_type}.jsonl").read_bytes().splitlines():
            key = json.loads(line)["customer_id"].encode()
            messages.append((event_type, key, line))
    messages += [(event_type, b"bad", value) for event_type, value, _reason in BAD_MESSAGES]
    return messages


def lake_config(env: Env, catalog: str | None, name: str = "lake") -> Path:
    """A config of the env's topics on the lake (None: on the file store), with a consumer group of its own.
    The file store lands big batches and derives its history again after every late event (no debounce),
    so that its history is the one its events give once the stream ends; the lake's pipelines land small
    batches (many commits, rebalances mid-stream), and its readers derive the model from the lake."""
    path = env.tmp / f"{name}.toml"
    topics = "\n".join(f'{k} = "{v}"' for k, v in env.topics.items())
    store = (f'store = "ducklake"\n[ducklake]\ncatalog = "{catalog}"\ndata_path = "{env.tmp / "lake-data"}/"\n'
             "sync_interval_s = 0.5\n") if catalog else ""
    path.write_text(
        f'db_path = "{env.tmp / name}.duckdb"\n{store}'
        + "[health]\nhistory_days = 35\n" + ("" if catalog else "history_rebuild_interval_seconds = 0.0\n")
        + f"[quack]\nport = {free_port()}\n"
        f"[kafka]\nbootstrap_servers = \"{env.bootstrap_servers}\"\n"
        f'group_id = "{name}-{env.suffix}"\npartitions = 3\nmax_poll_interval_ms = 300000\n'
        f"[kafka.topics]\n{topics}\n"
        + (f"[pipeline]\nbatch_max_events = {200 if catalog else 5000}\n"
           f"batch_max_wait_ms = {100 if catalog else 3000}\nmax_message_bytes = 4096\n"),
        encoding="utf-8",
    )
    return path


def cli(config: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "customer_health.cli", *args, "--config", str(config)],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO)


def json_of(config: Path, *args: str) -> object:
    result = cli(config, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def start(config: Path, log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "customer_health.cli", "ingest", "--config", str(config)],
                            stdout=log.open("a"), stderr=subprocess.STDOUT, text=True, cwd=REPO)


def lake_messages(config: Path) -> list[tuple[str, int, int]]:
    """(topic, partition, offset) of every message committed to the lake."""
    import duckdb

    settings = load_settings(config, env={})
    con = duckdb.connect()
    attach_lake(con, settings)
    try:
        tables = lake_tables(con)
        if "raw_messages" not in tables:
            return []
        return [(t, int(p), int(o)) for t, p, o in con.execute(
            'select topic, "partition", "offset" from lake.raw_messages').fetchall()]
    finally:
        con.close()


def file_total(config: Path) -> int:
    result = cli(config, "status", "--json")
    if result.returncode != 0:
        return 0
    status = json.loads(result.stdout)
    return int(sum(status["landed"].values()) + status["dead_letter"]["total"])


def assert_same_answers(lake: Path, file_store: Path) -> None:
    """Every reader's answer on the lake equals the file store's, key by key (a failure names the key)."""
    on_lake, on_file = readers_answers(lake), readers_answers(file_store)
    for key in on_file:
        assert on_lake[key] == on_file[key], f"{key} differs between the lake and the file store"


def lake_pipelines(config: Path) -> list[str]:
    """The member names of the pipelines that committed to the lake (they hold the process id)."""
    import duckdb

    con = duckdb.connect()
    attach_lake(con, load_settings(config, env={}))
    try:
        if not {"lake_commits"} <= lake_tables(con):
            return []
        return [str(p) for (p,) in con.execute("select distinct pipeline from lake.lake_commits").fetchall()]
    finally:
        con.close()


def readers_answers(config: Path) -> dict[str, object]:
    status = json_of(config, "status")
    assert isinstance(status, dict)
    return {
        "customers": json_of(config, "customers", "--as-of", AS_OF),
        "portfolio": json_of(config, "portfolio"),
        "landed": status["landed"],
        "dead_letter": status["dead_letter"]["by_reason"] if "by_reason" in status["dead_letter"]
        else status["dead_letter"],
    }


def test_one_lake_pipeline_lands_with_offsets_and_readers_answer_as_the_file_store(
    env: Env, lake_catalog: str,
) -> None:
    env.create_topics()
    messages = simulated_events(env.tmp)
    produce(env, messages)
    lake, file_store = lake_config(env, lake_catalog), lake_config(env, None, "file")
    file_pipeline = start(file_store, env.tmp / "file.log")
    lake_pipeline = start(lake, env.tmp / "lake.log")
    try:
        wait_until(lambda: len(lake_messages(lake)) == len(messages), timeout=180,
                   message="every message committed to the lake")
        wait_until(lambda: file_total(file_store) >= len(messages), timeout=180,
                   message="the file store's pipeline caught up")
    finally:
        exits = (stop_process(lake_pipeline), stop_process(file_pipeline))
    assert exits == (0, 0), [(env.tmp / f"{n}.log").read_text()[-3000:] for n in ("lake", "file")]
    committed = lake_messages(lake)
    assert len(set(committed)) == len(committed) == len(messages)
    assert_same_answers(lake, file_store)


def test_three_pipelines_one_killed_land_every_message_once_and_answer_as_one_pipeline(
    env: Env, lake_catalog: str,
) -> None:
    env.create_topics()
    messages = simulated_events(env.tmp, customers=80, seed=11)
    lake = lake_config(env, lake_catalog)
    logs = [env.tmp / f"lake-{i}.log" for i in range(4)]
    pipelines = [start(lake, logs[i]) for i in range(3)]
    try:
        half = len(messages) // 2
        produce(env, messages[:half])
        wait_until(lambda: f"-{pipelines[0].pid}-" in " ".join(lake_pipelines(lake)), timeout=300,
                   message="the first pipeline's first commit to the lake")
        os.kill(pipelines[0].pid, signal.SIGKILL)
        pipelines[0].wait(30)
        produce(env, messages[half:])
        pipelines.append(start(lake, logs[3]))  # a replacement joins while the others took the partitions
        wait_until(lambda: len(lake_messages(lake)) >= len(messages), timeout=240,
                   message="every message committed to the lake")
    finally:
        exits = [stop_process(proc) for proc in pipelines[1:]]  # every one stopped before any assertion
    assert exits == [0, 0, 0], [log.read_text()[-2000:] for log in logs[1:]]
    committed = lake_messages(lake)
    assert len(committed) == len(messages), "no message lost, none committed twice"
    assert len(set(committed)) == len(committed)

    # One pipeline on the file store, on the same events.
    file_store = lake_config(env, None, "file")
    file_pipeline = start(file_store, env.tmp / "file.log")
    try:
        wait_until(lambda: file_total(file_store) >= len(messages), timeout=180,
                   message="the file store caught up")
    finally:
        assert stop_process(file_pipeline) == 0
    assert_same_answers(lake, file_store)
