"""store = "ducklake", real engines: commands that write go to the lake, or refuse saying why; none writes the
local DuckDB file. A pipeline's webhook outcomes are the lake's; `alerts retry` sends again and records there.
`status` counts the lag from the offsets committed to the lake. (`intervene` writes the lake:
test_lake_interventions.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from customer_health.config import load_settings
from customer_health.db import attach_lake
from ingest.lake import lake_tables
from tests.conftest import Env, produce, stop_process, wait_until
from tests.integration.test_lake_pipelines import cli, lake_config, lake_messages, simulated_events, start
from tests.unit.test_alerts_webhook import Receiver

REFUSED = 'is not available with store = "ducklake"'


def delivery_outcomes(config: Path) -> list[tuple[int, str]]:
    """(alert id, status) of every webhook outcome recorded in the lake."""
    con = duckdb.connect()
    attach_lake(con, load_settings(config, env={}))
    try:
        if "alert_delivery_log" not in lake_tables(con):
            return []
        return [(int(i), str(s)) for i, s in con.execute(
            "select alert_id, status from lake.alert_delivery_log order by recorded_at").fetchall()]
    finally:
        con.close()


def listed(config: Path) -> dict[int, str]:
    result = cli(config, "alerts", "--limit", "100000", "--json")
    assert result.returncode == 0, result.stderr
    return {row["alert_id"]: row["delivery_status"] for row in json.loads(result.stdout)}


def status_of(config: Path) -> dict:
    result = cli(config, "status", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_write_commands_on_the_lake_write_the_lake_or_refuse_and_status_counts_lag_from_the_lake(
    env: Env, lake_catalog: str,
) -> None:
    receiver = Receiver(statuses=[400] * 100_000)  # every alert fails at once (a 4xx is not retried)
    try:
        env.create_topics()
        messages = simulated_events(env.tmp, customers=30, seed=5)
        lake = lake_config(env, lake_catalog)
        text = lake.read_text(encoding="utf-8").replace("[pipeline]\n", "[pipeline]\nschedule_interval_s = 2.0\n")
        lake.write_text(text + f'[alerts]\nevaluate_interval_s = 0.5\nwebhook_url = "{receiver.url}"\n'
                        "webhook_max_attempts = 1\n", encoding="utf-8")
        produce(env, messages)
        pipeline = start(lake, env.tmp / "lake.log")
        try:
            wait_until(lambda: len(lake_messages(lake)) == len(messages), timeout=240,
                       message="every message committed to the lake")
            wait_until(lambda: any(s == "failed" for _i, s in delivery_outcomes(lake)), timeout=120,
                       message="the pipeline's failed webhook deliveries recorded in the lake")
        finally:
            assert stop_process(pipeline) == 0, (env.tmp / "lake.log").read_text()[-3000:]

        # The pipeline's outcomes are what readers of the lake list.
        failed = {i for i, s in listed(lake).items() if s == "failed"}
        assert failed and failed <= {i for i, _s in delivery_outcomes(lake)}

        # alerts retry: sent again from the lake's copy, recorded in the lake, listed delivered by a new reader.
        receiver.statuses.clear()
        retried = cli(lake, "alerts", "retry", "--json")
        assert retried.returncode == 0, retried.stderr
        assert {row["alert_id"] for row in json.loads(retried.stdout)} == failed
        assert all(listed(lake)[i] == "delivered" for i in failed)
        assert {p["alert_id"] for p in receiver.payloads} >= failed

        # check reads the lake's tables and records nothing (--no-store); stored, its runs are the lake's
        # (test_lake_quality.py).
        checked = cli(lake, "check", "--no-store", "--json")
        assert checked.returncode in (0, 1), checked.stderr
        assert {s["suite"] for s in json.loads(checked.stdout)["suites"]}
        assert all(s["run_id"] is None for s in json.loads(checked.stdout)["suites"])

        refusals = {
            "refresh": cli(lake, "refresh"),
            "churn-model fit": cli(lake, "churn-model", "fit"),
            "load": cli(lake, "load", str(env.tmp / "simulated" / "visits.jsonl")),
        }
        for command, result in refusals.items():
            assert result.returncode != 0, f"{command} ran on the lake"
            assert f"{command}" in result.stderr and REFUSED in result.stderr, result.stderr
        assert not load_settings(lake, env={}).db_path.exists(), "no command wrote the local DuckDB file"

        # status: the lag counts from the offsets the pipeline committed to the lake, against the broker's ends.
        committed: dict[str, int] = {}
        for topic, partition, offset in lake_messages(lake):
            key = f"{topic}[{partition}]"
            committed[key] = max(committed.get(key, 0), offset + 1)
        before = status_of(lake)
        assert before["lag"]["source"] == "broker", before["lag"]
        # (a partition claimed but never landed has 0)
        assert {k: v for k, v in before["lag"]["committed"].items() if v} == committed
        assert set(before["lag"]["partitions"]) == {f"{t}[{p}]" for t in env.topics.values() for p in range(3)}
        assert set(before["owners"]) == set(before["lag"]["committed"])
        extra = [m for m in messages if m[0] == "visits"][:200]
        produce(env, extra)  # no pipeline runs: all of it is lag (Tansu's end offsets run a little low)
        after = status_of(lake)
        assert after["lag"]["committed"] == before["lag"]["committed"]
        assert before["lag"]["total"] < after["lag"]["total"] <= before["lag"]["total"] + len(extra)
    finally:
        receiver.close()
