"""`customer-health simulate` into its two sinks: Kafka (every event arrives, keyed by customer) and JSONL
files that `customer-health load` lands through the same contract."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from kafka import KafkaConsumer

from tests.conftest import Env, wait_until

SMALL = ("--customers", "30", "--history-days", "7", "--end", "2026-03-01T12:00:00Z")


def test_kafka_sink_sends_history_then_paced_live_events_keyed_by_customer(env: Env) -> None:
    result = env.cli("simulate", *SMALL, "--live-seconds", "2", "--rate", "20", "--json", timeout=120)
    assert result.returncode == 0, result.stderr
    totals = json.loads(result.stdout)
    assert totals["failed"] == 0 and totals["history_events"] > 100
    assert 30 <= totals["live_events"] <= 60  # paced: about 2 s x 20 events/s (a busy machine stops late)
    consumer = KafkaConsumer(
        *env.topics.values(), bootstrap_servers=env.bootstrap_servers, group_id=f"check-{env.suffix}",
        auto_offset_reset="earliest", enable_auto_commit=False, session_timeout_ms=6000,
        heartbeat_interval_ms=1000,
    )
    records: list = []
    try:
        def all_arrived() -> bool:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
            return len(records) >= totals["history_events"] + totals["live_events"]

        wait_until(all_arrived, timeout=60, message="every simulated event in Kafka")
    finally:
        consumer.close()
    assert len(records) == totals["history_events"] + totals["live_events"]
    for record in records:
        assert record.key.decode() == json.loads(record.value)["customer_id"]
    ids = [json.loads(r.value)["event_id"] for r in records]
    assert len(set(ids)) == len(ids)


def test_jsonl_files_land_with_load_and_invalid_messages_are_dead_lettered(env: Env, tmp_path: Path) -> None:
    out = tmp_path / "events"
    result = env.cli("simulate", *SMALL, "--bad-share", "0.05", "--jsonl", str(out), "--json")
    assert result.returncode == 0, result.stderr
    files = sorted(out.glob("*.jsonl"))
    assert [f.name for f in files] == ["customers.jsonl", "payments.jsonl", "tickets.jsonl", "visits.jsonl"]
    lines = sum(len(f.read_bytes().splitlines()) for f in files)
    assert lines == json.loads(result.stdout)["history_events"]
    loaded = env.cli("load", *map(str, files), "--json", timeout=180)
    assert loaded.returncode == 0, loaded.stderr
    totals = json.loads(loaded.stdout)
    assert totals["rows"] == lines and totals["duplicates"] == 0
    assert 0.02 * lines < totals["dead_lettered"] < 0.09 * lines  # about the 5% made invalid on purpose
    with duckdb.connect(str(env.db_path), read_only=True) as con:
        (customers,) = con.execute("select count(*) from customers").fetchone()
    assert customers == 30
