"""Quality and alerts in the real pipeline (Tansu broker, DuckDB file, Quack) and `check` from the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from customer_health.alerts.engine import AlertCandidate, AlertEngine
from customer_health.alerts.webhook import WebhookSink
from customer_health.cli import main
from customer_health.config import AlertSettings
from customer_health.db import open_owner, reader
from ingest.landing import Lander, RawBatch
from tests.conftest import Env, stop_process, wait_until
from tests.factories import customer, encode, payment, ticket, visit
from tests.unit.test_alerts_webhook import Receiver


def now_iso(minutes_ago: float = 0) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


def configure(env: Env, extra: str = "") -> None:
    """Fast schedules for a test: table suites every 2 s, alerts every 0.5 s, short webhook backoff."""
    text = env.config_path.read_text().replace("[pipeline]\n", "[pipeline]\nschedule_interval_s = 2.0\n")
    env.config_path.write_text(
        text + "[alerts]\nevaluate_interval_s = 0.5\nwebhook_backoff_initial_s = 0.05\n"
        'webhook_headers = { "X-Api-Key" = "k-123" }\n' + extra
    )


def produce(env: Env, events: list[tuple[str, dict]]) -> None:
    producer = env.producer()
    for event_type, event in events:
        producer.send(env.topics[event_type], key=event["customer_id"].encode(), value=encode(event))
    producer.flush(30)
    producer.close()


def query(env: Env, sql: str) -> list[tuple]:
    with reader(env.settings()) as db:
        if db.uri:
            return db.con.execute("select * from quack_query(?, ?)", [db.uri, sql]).fetchall()
        return db.con.execute(sql).fetchall()


def test_the_pipeline_quarantines_bad_rows_and_alerts_the_webhook_once(env: Env) -> None:
    configure(env)
    env.create_topics()
    good = []
    for i in range(20):
        cid = f"c{i % 5}"
        good += [("customers", customer(f"k{i}", cid, occurred_at=now_iso(30))),
                 ("tickets", ticket(f"t{i}", cid, occurred_at=now_iso(5))),
                 ("payments", payment(f"p{i}", cid, occurred_at=now_iso(5))),
                 ("visits", visit(f"v{i}", cid, occurred_at=now_iso(5)))]
    suspect = [("payments", payment(f"huge{i}", "c1", amount=7_500_000, occurred_at=now_iso(1))) for i in range(3)]
    receiver = Receiver(statuses=[500])  # the first delivery fails and is retried
    proc = env.start_pipeline("--alert-webhook", receiver.url)
    try:
        produce(env, good[:40] + suspect + good[40:])
        wait_until(lambda: receiver.payloads and query(env, "select count(*) from quarantine")[0][0] == 3,
                   timeout=90, message=f"quarantine and webhook\n{env.pipeline_log()}")
        wait_until(lambda: query(env, "select delivery_status from alerts") == [("delivered",)],
                   message="delivery recorded")
        # `check` beside the running pipeline: reads and records through Quack; the stored data is clean.
        check = env.cli("check", "--json")
        assert check.returncode == 0, check.stdout + check.stderr
        document = json.loads(check.stdout)
        assert document["success"] is True and document["critical_failures"] == 0
        listed = env.cli("alerts", "--json")
        assert listed.returncode == 0, listed.stderr
        wait_until(lambda: query(env, "select count(*) from quality_runs where trigger = 'schedule'")[0][0] > 0,
                   message="a scheduled table-suite run")
    finally:
        assert stop_process(proc) == 0, env.pipeline_log()
        receiver.close()
    expectation = "expect_column_values_to_be_between(amount)"
    assert len(receiver.payloads) == 2 and receiver.payloads[0] == receiver.payloads[1]  # 500, then retried
    payload = receiver.payloads[0]
    assert {k: payload[k] for k in ("source", "subject", "severity")} == {
        "source": "quality", "subject": f"batch:payments.{expectation}", "severity": "critical"}
    assert payload["title"].startswith(f"Critical expectation failed on landed payments: {expectation}; 3 rows")
    assert receiver.requests[0]["headers"]["X-Api-Key"] == "k-123"
    (alert,) = json.loads(listed.stdout)
    assert (alert["alert_id"], alert["source"], alert["payload"]) == (payload["alert_id"], "quality", payload)
    with duckdb.connect(str(env.db_path), read_only=True) as con:
        assert con.execute("select count(*) from payments").fetchone() == (20,)
        assert con.execute("select sum(messages), sum(landed), sum(quarantined) from ingest_batches").fetchone() \
            == (83, 80, 3)
        assert con.execute("select attempts from alerts").fetchall() == [(2,)]
        assert {r[0] for r in con.execute("select trigger from quality_runs").fetchall()} >= \
            {"pipeline", "schedule", "check"}


def test_check_exits_1_on_a_critical_failure_and_0_on_warnings_only(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(env, "[quality]\ncustomer_grace_minutes = 0.0\n")  # unknown customers: a warning at once
    con = open_owner(env.settings())  # a database without a running pipeline, as `load` leaves it
    batch = RawBatch()
    for i in range(5):
        event = ticket(f"t{i}", f"c{i}", occurred_at=now_iso(3))
        batch.add_kafka("tickets", "tickets", 0, i, None, encode(event), None)
    Lander(con, "g", 65536).land(batch, "kafka")
    con.close()
    fresh = env.cli("check", "--suite", "tickets")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert "tickets           ok" in fresh.stdout and "1 warning(s)" in fresh.stdout
    with duckdb.connect(str(env.db_path)) as con:
        con.execute("update tickets set category = 'gossip' where event_id = 't1'")
    broken = env.cli("check", "--json")
    assert broken.returncode == 1, broken.stderr
    document = json.loads(broken.stdout)
    failures = {(s["suite"], e["expectation"]) for s in document["suites"] for e in s["expectations"]
                if not e["success"] and e["critical"]}
    assert failures == {("tickets", "expect_column_values_to_be_in_set(category)")}
    # The same in-process, as text (Great Expectations is already imported here).
    assert main(["check", "--suite", "tickets", "--config", str(env.config_path)]) == 1
    assert "critical: expect_column_values_to_be_in_set(category)" in capsys.readouterr().out
    with duckdb.connect(str(env.db_path), read_only=True) as con:
        assert con.execute("select trigger, count(*) from quality_runs group by all order by 1").fetchall() == \
            [("check", 1 + 7 + 1)]
    missing = env.cli("check", "--db", str(env.tmp / "nowhere.duckdb"))
    assert missing.returncode == 1 and "no database" in missing.stderr


def test_undelivered_alerts_are_listed_and_a_retry_sends_them(env: Env) -> None:
    gone = Receiver()
    unreachable = gone.url
    gone.close()
    con = open_owner(env.settings())
    try:
        settings = AlertSettings(webhook_max_attempts=1)
        sink = WebhookSink(con.cursor, settings, unreachable)
        sink.start()
        engine = AlertEngine(settings, sink)
        report = engine.dispatch(con, [AlertCandidate("pipeline", s, "warning", f"Alert {s}") for s in "abc"],
                                 datetime(2026, 11, 2, 12, 0))
        engine.deliver(report)
        sink.close()
    finally:
        con.close()
    ids = [a.alert_id for a in report.sent]
    receiver = Receiver()
    try:
        configure(env, f'webhook_url = "{receiver.url}"\n')
        listed = env.cli("alerts", "--undelivered", "--json")
        assert listed.returncode == 0, listed.stderr
        rows = json.loads(listed.stdout)
        assert [r["alert_id"] for r in rows] == ids[::-1]
        assert all(r["delivery_status"] == "failed" and r["last_error"].startswith("cannot reach") for r in rows)
        text = env.cli("alerts", "--undelivered").stdout
        assert f"#{ids[0]}" in text and "cannot reach" in text and "customer-health alerts retry" in text

        one = env.cli("alerts", "retry", "--id", str(ids[0]), "--json")
        assert one.returncode == 0, one.stderr
        assert json.loads(one.stdout) == [{"alert_id": ids[0], "delivery_status": "delivered"}]
        assert [p["alert_id"] for p in receiver.payloads] == [ids[0]]
        left = json.loads(env.cli("alerts", "--undelivered", "--json").stdout)
        assert [r["alert_id"] for r in left] == ids[:0:-1]

        rest = env.cli("alerts", "retry")
        assert rest.returncode == 0, rest.stderr
        assert sorted(p["alert_id"] for p in receiver.payloads) == ids
        assert json.loads(env.cli("alerts", "--undelivered", "--json").stdout) == []
        assert "every alert was delivered" in env.cli("alerts", "--undelivered").stdout
    finally:
        receiver.close()


def test_a_retry_beside_a_running_pipeline_records_through_it(env: Env) -> None:
    gone = Receiver()
    unreachable = gone.url
    gone.close()
    env.create_topics()
    con = open_owner(env.settings())
    try:
        settings = AlertSettings(webhook_max_attempts=1)
        sink = WebhookSink(con.cursor, settings, unreachable)
        sink.start()
        engine = AlertEngine(settings, sink)
        report = engine.dispatch(con, [AlertCandidate("pipeline", "lag", "warning", "Lag")],
                                 datetime(2026, 11, 2, 12, 0))
        engine.deliver(report)
        sink.close()
    finally:
        con.close()
    (alert_id,) = [a.alert_id for a in report.sent]
    receiver = Receiver()
    configure(env, f'webhook_url = "{receiver.url}"\n')
    proc = env.start_pipeline()
    try:
        wait_until(lambda: (env.tmp / "health.duckdb.quack.json").exists(), message="Quack endpoint")
        retried = env.cli("alerts", "retry", "--json")
        assert retried.returncode == 0, retried.stderr
        assert json.loads(retried.stdout) == [{"alert_id": alert_id, "delivery_status": "delivered"}]
        assert json.loads(env.cli("alerts", "--undelivered", "--json").stdout) == []
    finally:
        assert stop_process(proc) == 0, env.pipeline_log()
        receiver.close()
    assert [p["alert_id"] for p in receiver.payloads] == [alert_id]
    assert query(env, f"select delivery_status from alerts where alert_id = {alert_id}") == [("delivered",)]
