"""The webhook sink against a local HTTP server on 127.0.0.1: exact payloads, retries, floods, headers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest

from customer_health.alerts.engine import AlertCandidate, AlertEngine
from customer_health.alerts.webhook import WebhookSink
from customer_health.config import AlertSettings
from customer_health.errors import UserError
from customer_health.sqlfiles import Statements, apply_schema
from tests.conftest import wait_until

T0 = datetime(2026, 11, 2, 12, 0)


class Receiver:
    """A webhook receiver: answers with the scripted statuses (then 200) and records every request."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "payload": json.loads(body)})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/alerts?token=abc"

    @property
    def payloads(self) -> list[dict]:
        return [r["payload"] for r in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(tmp_path / "webhook.duckdb"))
    apply_schema(connection)
    yield connection
    connection.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def fast(**over: object) -> AlertSettings:
    return AlertSettings(**({"webhook_backoff_initial_s": 0.01, "webhook_backoff_max_s": 0.05,
                             "webhook_headers": {"Authorization": "Bearer s3cret", "X-Team": "ops"}} | over))


def deliver(con: duckdb.DuckDBPyConnection, settings: AlertSettings, url: str, candidates: list[AlertCandidate],
            now: datetime = T0) -> tuple[WebhookSink, list[int]]:
    sink = WebhookSink(con.cursor, settings, url)
    sink.start()
    engine = AlertEngine(settings, sink)
    report = engine.dispatch(con, candidates, now)
    engine.deliver(report)
    return sink, [a.alert_id for a in report.sent]


def delivery(con: duckdb.DuckDBPyConnection, alert_id: int) -> tuple:
    return con.execute(
        "select delivery_status, attempts, delivered_at is not null, last_error from alerts where alert_id = ?",
        [alert_id],
    ).fetchone()


def test_an_alert_is_posted_as_json_with_headers_and_recorded_delivered(
    con: duckdb.DuckDBPyConnection, receiver: Receiver
) -> None:
    candidate = AlertCandidate("segment", "c1", "warning", "Acme (c1): healthy -> at_risk (health score 41)",
                               {"from_segment": "healthy", "to_segment": "at_risk"}, group="healthy -> at_risk")
    sink, (alert_id,) = deliver(con, fast(), receiver.url, [candidate])
    sink.close()
    assert receiver.payloads == [{
        "alert_id": alert_id, "created_at": "2026-11-02T12:00:00Z", "source": "segment", "subject": "c1",
        "severity": "warning", "title": "Acme (c1): healthy -> at_risk (health score 41)",
        "details": {"from_segment": "healthy", "to_segment": "at_risk"},
        "text": f"[WARNING] Acme (c1): healthy -> at_risk (health score 41) (segment/c1, alert #{alert_id})",
    }]
    request = receiver.requests[0]
    assert request["path"] == "/hooks/alerts?token=abc"
    assert request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["Authorization"] == "Bearer s3cret" and request["headers"]["X-Team"] == "ops"
    assert request["headers"]["X-Alert-Id"] == str(alert_id)
    assert delivery(con, alert_id) == ("delivered", 1, True, None)
    stored = json.loads(con.execute("select payload from alerts where alert_id = ?", [alert_id]).fetchone()[0])
    assert stored == receiver.payloads[0]


def test_a_500_is_retried_with_backoff_until_delivered(con: duckdb.DuckDBPyConnection) -> None:
    receiver = Receiver(statuses=[500, 503])
    try:
        sink, (alert_id,) = deliver(con, fast(), receiver.url, [AlertCandidate("pipeline", "lag", "warning", "Lag")])
        wait_until(lambda: delivery(con, alert_id)[0] == "delivered", timeout=10, message="delivery")
        sink.close()
        assert len(receiver.payloads) == 3
        assert receiver.payloads[0] == receiver.payloads[1] == receiver.payloads[2]  # the same alert, resent
        assert {r["headers"]["X-Alert-Id"] for r in receiver.requests} == {str(alert_id)}
        assert delivery(con, alert_id) == ("delivered", 3, True, "HTTP 503 Service Unavailable")
    finally:
        receiver.close()


def test_a_client_error_is_not_retried_and_attempts_are_bounded(con: duckdb.DuckDBPyConnection) -> None:
    receiver = Receiver(statuses=[400] + [500] * 10)
    try:
        settings = fast(webhook_max_attempts=3)
        sink, ids = deliver(con, settings, receiver.url, [
            AlertCandidate("pipeline", "lag", "warning", "Lag"),
            AlertCandidate("pipeline", "staleness", "critical", "Stale"),
        ])
        sink.close()
        assert delivery(con, ids[0]) == ("failed", 1, False, "HTTP 400 Bad Request")
        assert delivery(con, ids[1]) == ("failed", 3, False, "HTTP 500 Internal Server Error")
        assert [p["subject"] for p in receiver.payloads] == ["lag", "staleness", "staleness", "staleness"]
    finally:
        receiver.close()


def test_a_flood_reaches_the_webhook_as_a_single_summary(
    con: duckdb.DuckDBPyConnection, receiver: Receiver
) -> None:
    flood = [AlertCandidate("segment", f"c{i:04d}", "warning", f"c{i:04d}: healthy -> at_risk",
                            group="healthy -> at_risk") for i in range(2000)]
    sink, ids = deliver(con, fast(flood_threshold=20, flood_window_minutes=10), receiver.url, flood)
    sink.close()
    assert receiver.payloads == [{
        "alert_id": ids[0], "created_at": "2026-11-02T12:00:00Z", "source": "segment", "subject": "*",
        "severity": "warning", "title": "Circuit breaker: 2,000 segment alerts held back (over 20 in 10 min)",
        "details": {
            "opens_breaker": True, "held": 2000, "sent_in_window_before": 0, "threshold": 20, "window_minutes": 10.0,
            "by_group": {"healthy -> at_risk": 2000},
            "sample": [{"subject": f"c{i:04d}", "title": f"c{i:04d}: healthy -> at_risk"} for i in range(10)],
        },
        "text": "[WARNING] Circuit breaker: 2,000 segment alerts held back (over 20 in 10 min) "
                f"(segment/*, alert #{ids[0]})",
    }]
    counts = con.execute("select delivery_status, count(*) from alerts group by all order by 1").fetchall()
    assert counts == [("delivered", 1), ("held", 2000)]
    # What ops see as never delivered on their own: every held alert, pointing at the summary sent for it.
    never = Statements(con).rows("alerts/never_delivered", {"limit": 5000})
    assert len(never) == 2000
    assert {(r[6], r[9]) for r in never} == {("held", ids[0])}


def test_an_unreachable_webhook_is_retried_then_failed_and_never_blocks(con: duckdb.DuckDBPyConnection) -> None:
    closed = Receiver()
    url = closed.url
    closed.close()  # nothing listens there any more
    sink, (alert_id,) = deliver(con, fast(webhook_max_attempts=2), url,
                                [AlertCandidate("pipeline", "lag", "warning", "Lag")])
    wait_until(lambda: delivery(con, alert_id)[0] == "failed", timeout=10, message="failure recorded")
    sink.close()
    status, attempts, delivered, error = delivery(con, alert_id)
    assert (attempts, delivered) == (2, False) and error.startswith("cannot reach http://127.0.0.1:")
    assert "token=abc" not in error


def test_the_queue_is_bounded_and_pending_alerts_survive_a_restart(
    con: duckdb.DuckDBPyConnection, receiver: Receiver
) -> None:
    settings = fast(webhook_queue_size=2)
    sink = WebhookSink(con.cursor, settings, receiver.url)  # not started: nothing drains the queue
    engine = AlertEngine(settings, sink)
    report = engine.dispatch(con, [AlertCandidate("pipeline", s, "warning", s) for s in ("a", "b", "c")], T0)
    engine.deliver(report)
    first, second, third = (a.alert_id for a in report.sent)
    assert delivery(con, third) == ("failed", 0, False, "delivery queue full (2)")
    assert delivery(con, first)[0] == delivery(con, second)[0] == "pending"
    # The next pipeline sends what the last one left pending.
    restarted = WebhookSink(con.cursor, settings, receiver.url)
    restarted.start()
    assert restarted.requeue_undelivered(con, T0 - timedelta(hours=1)) == 2
    restarted.close()
    assert [p["subject"] for p in receiver.payloads] == ["a", "b"]
    assert delivery(con, first)[0] == delivery(con, second)[0] == "delivered"


def test_a_webhook_url_must_be_http(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(UserError, match="alerts.webhook_url must be an http:// or https:// URL"):
        WebhookSink(con.cursor, AlertSettings(webhook_url="ftp://example.com/x"))


class HangingReceiver:
    """Accepts connections and reads the request, then never answers (or, with ``trickle``, answers one
    header byte at a time, forever) until closed."""

    def __init__(self, trickle: bool = False) -> None:
        self.released = threading.Event()
        self.requests = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests += 1
                if not trickle:
                    receiver.released.wait(60)
                    return
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                while not receiver.released.wait(0.1):
                    try:
                        self.wfile.write(b"X")
                        self.wfile.flush()
                    except OSError:
                        return

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hang"

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


def receiver_deliveries(con: duckdb.DuckDBPyConnection, alert_id: int) -> dict[str, tuple]:
    rows = con.execute("select receiver, status, attempts, last_error from alert_deliveries where alert_id = ?",
                       [alert_id]).fetchall()
    return {r[0]: r[1:] for r in rows}


def test_a_hanging_receiver_never_delays_the_others(con: duckdb.DuckDBPyConnection, receiver: Receiver) -> None:
    hanging = HangingReceiver()
    try:
        settings = fast(webhook_timeout_s=1.0, webhook_max_attempts=2)
        started = time.monotonic()
        sink = WebhookSink(con.cursor, settings, [hanging.url, receiver.url])
        sink.start()
        engine = AlertEngine(settings, sink)
        report = engine.dispatch(con, [AlertCandidate("pipeline", s, "warning", s) for s in "abcde"], T0)
        engine.deliver(report)
        wait_until(lambda: len(receiver.payloads) == 5, timeout=10, message="the fast receiver has every alert")
        fast_done = time.monotonic() - started
        # The hanging receiver alone would hold the five alerts 5 x 2 attempts x 1 s.
        assert fast_done < 1.0, fast_done
        assert [p["subject"] for p in receiver.payloads] == list("abcde")
        first = report.sent[0].alert_id
        wait_until(lambda: delivery(con, first)[0] == "failed", timeout=10, message="hanging receiver gave up")
        # Each attempt is cut off at the timeout: two attempts and a backoff take ~2 s, not a minute.
        assert time.monotonic() - started < 4.0
        sink.close(timeout=1)
        hang_name, fast_name = hanging.url, receiver.url.split("?")[0]
        deliveries = receiver_deliveries(con, first)
        assert deliveries[fast_name][:2] == ("delivered", 1)
        assert deliveries[hang_name] == ("failed", 2, f"no answer from {hang_name} within 1 s")
        status, attempts, delivered_at, error = delivery(con, first)
        assert (status, attempts, delivered_at) == ("failed", 2, False)
        assert error == f"{hang_name}: no answer from {hang_name} within 1 s"
    finally:
        hanging.close()


def test_an_attempt_is_bounded_even_when_the_receiver_keeps_sending(con: duckdb.DuckDBPyConnection) -> None:
    trickling = HangingReceiver(trickle=True)
    try:
        sink, (alert_id,) = deliver(con, fast(webhook_timeout_s=0.5, webhook_max_attempts=1), trickling.url,
                                    [AlertCandidate("pipeline", "lag", "warning", "Lag")])
        started = time.monotonic()
        wait_until(lambda: delivery(con, alert_id)[0] == "failed", timeout=10, message="attempt cut off")
        assert time.monotonic() - started < 2.0
        sink.close()
        assert delivery(con, alert_id)[3] == f"no answer from {trickling.url} within 0.5 s"
    finally:
        trickling.close()


def test_every_receiver_gets_every_alert_and_a_restart_sends_only_what_is_missing(
    con: duckdb.DuckDBPyConnection, receiver: Receiver
) -> None:
    other = Receiver(statuses=[503] * 3)
    try:
        settings = fast(webhook_max_attempts=1)
        sink, (alert_id,) = deliver(con, settings, [receiver.url, other.url],
                                    [AlertCandidate("pipeline", "lag", "warning", "Lag")])
        sink.close()
        assert delivery(con, alert_id)[0] == "failed"  # one receiver gave up
        assert len(receiver.payloads) == len(other.payloads) == 1
        # A retry goes to the receiver that does not have it, not to the one that does.
        con.execute("update alerts set delivery_status = 'pending'")
        con.execute("update alert_deliveries set status = 'pending' where status = 'failed'")
        restarted = WebhookSink(con.cursor, fast(webhook_max_attempts=5), [receiver.url, other.url])
        restarted.start()
        assert restarted.requeue_undelivered(con, T0 - timedelta(hours=1)) == 1
        wait_until(lambda: delivery(con, alert_id)[0] == "delivered", timeout=10, message="delivered everywhere")
        restarted.close()
        assert len(receiver.payloads) == 1 and len(other.payloads) == 4
    finally:
        other.close()
