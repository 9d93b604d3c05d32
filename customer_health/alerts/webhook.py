"""The webhook sink: one JSON POST per alert and receiver, from background threads, so landing never waits.

Guarantees: each receiver (``alerts.webhook_url`` and ``alerts.webhook_urls``) has its own bounded queue
and thread, so a slow or hanging receiver delays only its own alerts; an attempt takes at most
``alerts.webhook_timeout_s`` in all (connect, send and answer), whatever the receiver does. Per receiver,
alerts are delivered in the order submitted; a delivery is retried with exponential backoff
(``alerts.webhook_backoff_initial_s`` doubling up to ``..._max_s``) on connection errors, timeouts,
HTTP 5xx, 408 and 429, up to ``alerts.webhook_max_attempts`` attempts; any other status fails at once.
Every attempt is recorded per receiver (``alert_deliveries``) and summed up on the alert
(``attempts``, ``delivery_status``, ``delivered_at``, ``last_error``: the latest failed attempt, kept
after a later success). When a receiver's queue (``alerts.webhook_queue_size``) is full, the alert is
recorded as failed there rather than blocking the caller. Alerts still queued at shutdown stay
``pending`` and are queued again by the next pipeline; `customer-health alerts retry` sends failed ones
again. Each request carries ``X-Alert-Id`` so a receiver can drop retried duplicates; configured headers
(``alerts.webhook_headers``) are added and never logged.
"""

from __future__ import annotations

import http.client
import json
import logging
import queue
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import duckdb

from customer_health import sqlfiles
from customer_health.clock import utc_now
from customer_health.config import AlertSettings
from customer_health.errors import UserError

log = logging.getLogger("customer_health.alerts.webhook")

RETRYABLE_STATUS = {408, 429}


def validate_webhook_url(url: str, key: str = "alerts.webhook_url") -> str:
    """``url`` if it is an absolute http(s) URL; UserError naming ``key`` otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UserError(f"{key} must be an http:// or https:// URL, got {url!r}")
    return url


RecordStatement = Callable[[str, Mapping[str, Any]], object]


def receiver_name(url: str) -> str:
    """The URL without its query string (which may hold a token): how logs and records name a receiver."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def receiver_urls(settings: AlertSettings) -> list[str]:
    """Every configured receiver, ``webhook_url`` first, each once."""
    urls: list[str] = []
    for url in (settings.webhook_url, *settings.webhook_urls):
        if url and receiver_name(url) not in {receiver_name(u) for u in urls}:
            urls.append(validate_webhook_url(url, "alerts.webhook_url" if url == settings.webhook_url
                                             else "alerts.webhook_urls"))
    return urls


class WebhookSink:
    """Delivers alerts to every receiver; ``start()`` before ``submit()``, ``close()`` at shutdown.

    ``urls``: one URL or several (default: the configured receivers). Outcomes are recorded through
    ``record_statement(name, params)`` when given, else on a cursor from ``cursor_factory``.
    """

    def __init__(
        self,
        cursor_factory: Callable[[], duckdb.DuckDBPyConnection] | None,
        settings: AlertSettings,
        urls: str | Sequence[str] | None = None,
        record_statement: RecordStatement | None = None,
        on_recorded: Callable[[Mapping[str, Any]], None] | None = None,
    ) -> None:
        if isinstance(urls, str):
            urls = [validate_webhook_url(urls)]
        elif urls is None:
            urls = receiver_urls(settings)
            if not urls:
                validate_webhook_url(settings.webhook_url)
        else:
            urls = [validate_webhook_url(u) for u in urls]
        self.settings = settings
        self._cursor_factory = cursor_factory
        self._record_statement = record_statement
        self._on_recorded = on_recorded  # after each outcome is recorded (a lake pipeline copies it to the lake)
        self._cursor: duckdb.DuckDBPyConnection | None = None
        self._record_lock = threading.Lock()
        self.receivers = [_Receiver(url, settings, self._record) for url in urls]

    @property
    def url(self) -> str:
        return self.receivers[0].url

    @property
    def target(self) -> str:
        """The receivers without their query strings, for logs."""
        return ", ".join(r.name for r in self.receivers)

    def start(self) -> None:
        for receiver in self.receivers:
            receiver.start()

    def submit(self, alert_id: int, payload: dict[str, Any], skip: Sequence[str] = ()) -> bool:
        """Queue one delivery per receiver (but those named in ``skip``); False when a queue was full
        (the alert is then recorded as failed at that receiver)."""
        accepted = True
        for receiver in self.receivers:
            if receiver.name not in skip:
                accepted = receiver.submit(alert_id, payload) and accepted
        return accepted

    def requeue_undelivered(self, cur: duckdb.DuckDBPyConnection, since: datetime) -> int:
        """Queue again the alerts a previous pipeline left ``pending``; how many."""
        rows = sqlfiles.Statements(cur).run("alerts/undelivered", {"since": since}).fetchall()
        for alert_id, payload, done in rows:
            self.submit(int(alert_id), json.loads(payload), skip=list(done))
        return len(rows)

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued within ``timeout`` seconds, then stop (the rest stays pending)."""
        deadline = time.monotonic() + timeout
        for receiver in self.receivers:
            receiver.finish()
        for receiver in self.receivers:
            receiver.join(max(0.0, deadline - time.monotonic()))
        for receiver in self.receivers:
            receiver.stop(timeout)

    def _record(
        self, alert_id: int, receiver: str, status: str, attempts: int, delivered_at: datetime | None,
        error: str | None,
    ) -> None:
        params = {"alert_id": alert_id, "receiver": receiver, "status": status, "attempts": attempts,
                  "delivered_at": delivered_at, "last_error": error,
                  "current_receivers": [r.name for r in self.receivers]}
        with self._record_lock:
            run = self._record_statement
            if run is None:
                if self._cursor is None:
                    assert self._cursor_factory is not None
                    self._cursor = self._cursor_factory()
                cursor = self._cursor

                def run(name: str, values: Mapping[str, Any]) -> object:
                    return sqlfiles.Statements(cursor).run(name, values)

            for attempt in range(5):
                try:
                    run("alerts/record_receiver_delivery", params)
                    run("alerts/record_delivery", params)
                    break
                except duckdb.TransactionException:
                    time.sleep(0.05 * (attempt + 1))  # a concurrent writer touched the row: try again
                except duckdb.Error as exc:
                    log.warning("cannot record the delivery of alert #%d to %s: %s", alert_id, receiver, exc)
                    return
            else:
                return
            if self._on_recorded is not None:  # under the lock: copies in the order of the outcomes
                try:
                    self._on_recorded(params)
                except Exception:
                    log.exception("cannot copy the delivery of alert #%d to %s", alert_id, receiver)


Recorder = Callable[[int, str, str, int, "datetime | None", "str | None"], None]


class _Receiver:
    """One receiver's queue and delivery thread."""

    def __init__(self, url: str, settings: AlertSettings, record: Recorder) -> None:
        self.url = url
        self.name = receiver_name(url)
        self.settings = settings
        self._record_outcome = record
        self._queue: queue.Queue[tuple[int, dict[str, Any]]] = queue.Queue(maxsize=settings.webhook_queue_size)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._finishing = threading.Event()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"alert-webhook {self.name}", daemon=True)
            self._thread.start()

    def submit(self, alert_id: int, payload: dict[str, Any]) -> bool:
        try:
            self._queue.put_nowait((alert_id, payload))
            return True
        except queue.Full:
            log.error("webhook queue of %s full (%d): alert #%d not sent", self.name,
                      self.settings.webhook_queue_size, alert_id)
            self._record(alert_id, "failed", 0, None, f"delivery queue full ({self.settings.webhook_queue_size})")
            return False

    def finish(self) -> None:
        """No more alerts: the thread ends once the queue is delivered."""
        self._finishing.set()

    def join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def stop(self, timeout: float) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                alert_id, payload = self._queue.get(timeout=0.1)
            except queue.Empty:
                if self._finishing.is_set():
                    return
                continue
            try:
                self._deliver(alert_id, payload)
            except Exception:  # a sink failure must never stop the pipeline
                log.exception("webhook delivery of alert #%d to %s failed unexpectedly", alert_id, self.name)

    def _deliver(self, alert_id: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode("utf-8")
        headers = {"Content-Type": "application/json", "User-Agent": "customer-health-alerts/1",
                   "X-Alert-Id": str(alert_id)}
        headers.update({k: v.get_secret_value() for k, v in self.settings.webhook_headers.items()})
        max_attempts = max(1, self.settings.webhook_max_attempts)
        last_error: str | None = None
        for attempt in range(1, max_attempts + 1):
            error, retryable = self._post(body, headers)
            if error is None:  # delivered; last_error keeps the failure retried before, if any
                self._record(alert_id, "delivered", attempt, utc_now(), last_error)
                return
            last_error = error
            if not retryable or attempt == max_attempts:
                log.error("alert #%d: webhook %s failed after %d attempt(s): %s", alert_id, self.name, attempt,
                          error)
                self._record(alert_id, "failed", attempt, None, error)
                return
            self._record(alert_id, "pending", attempt, None, error)
            delay = min(self.settings.webhook_backoff_initial_s * 2 ** (attempt - 1),
                        self.settings.webhook_backoff_max_s)
            log.warning("alert #%d: webhook %s attempt %d failed (%s); retrying in %.2f s", alert_id, self.name,
                        attempt, error, delay)
            if self._stop.wait(delay):
                return  # shutting down: stays pending, queued again by the next pipeline

    def _post(self, body: bytes, headers: dict[str, str]) -> tuple[str | None, bool]:
        """(None, _) on a 2xx; else (error, retryable). Takes at most webhook_timeout_s in all."""
        return post_json(self.url, body, headers, self.settings.webhook_timeout_s)

    def _record(self, alert_id: int, status: str, attempts: int, delivered_at: datetime | None,
                error: str | None) -> None:
        self._record_outcome(alert_id, self.name, status, attempts, delivered_at, error)


def post_json(url: str, body: bytes, headers: Mapping[str, str], timeout_s: float) -> tuple[str | None, bool]:
    """POST ``body`` to ``url``: (None, False) on a 2xx, else (error, retryable). The whole exchange is
    bounded by ``timeout_s`` seconds: a receiver that accepts and then never answers, or answers a byte at
    a time, is cut off at the deadline."""
    parts = urlsplit(url)
    target = receiver_name(url)
    connection_type = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_type(parts.hostname or "", parts.port, timeout=timeout_s)
    timed_out = threading.Event()

    def cut_off() -> None:
        timed_out.set()
        sock = connection.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    watchdog = threading.Timer(timeout_s, cut_off)
    watchdog.daemon = True
    watchdog.start()
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=dict(headers))
        response = connection.getresponse()
        response.read()
        if timed_out.is_set():
            raise TimeoutError
        if 200 <= response.status < 300:
            return None, False
        retryable = response.status >= 500 or response.status in RETRYABLE_STATUS
        return f"HTTP {response.status} {response.reason}", retryable
    except TimeoutError:
        return f"no answer from {target} within {timeout_s:g} s", True
    except (http.client.HTTPException, OSError) as exc:
        if timed_out.is_set():
            return f"no answer from {target} within {timeout_s:g} s", True
        return f"cannot reach {target}: {exc}", True
    finally:
        watchdog.cancel()
        connection.close()
