"""The webhook sink: one JSON POST per alert, from a background thread, so landing never waits on it.

Guarantees: alerts are delivered in the order submitted; a delivery is retried with exponential backoff
(``alerts.webhook_backoff_initial_s`` doubling up to ``..._max_s``) on connection errors, timeouts,
HTTP 5xx, 408 and 429, up to ``alerts.webhook_max_attempts`` attempts; any other 4xx fails at once.
Every attempt is recorded on the alert (``attempts``, ``delivery_status``, ``delivered_at``,
``last_error``: the latest failed attempt, kept after a later success). The queue is bounded
(``alerts.webhook_queue_size``): when full, the alert is recorded as failed rather than blocking the
caller. Alerts still queued at shutdown stay ``pending`` and are queued again by the next pipeline.
Each request carries ``X-Alert-Id`` so a receiver can drop retried duplicates; configured headers
(``alerts.webhook_headers``) are added and never logged.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
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


class WebhookSink:
    """Delivers alerts to one URL; ``start()`` before ``submit()``, ``close()`` at shutdown."""

    def __init__(
        self,
        cursor_factory: Callable[[], duckdb.DuckDBPyConnection],
        settings: AlertSettings,
        url: str | None = None,
    ) -> None:
        self.url = validate_webhook_url(url or settings.webhook_url)
        self.settings = settings
        self._cursor_factory = cursor_factory
        self._queue: queue.Queue[tuple[int, dict[str, Any]] | None] = queue.Queue(maxsize=settings.webhook_queue_size)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cursor: duckdb.DuckDBPyConnection | None = None
        self._record_lock = threading.Lock()

    @property
    def target(self) -> str:
        """The URL without its query string, for logs."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}{parts.path}"

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="alert-webhook", daemon=True)
            self._thread.start()

    def submit(self, alert_id: int, payload: dict[str, Any]) -> bool:
        """Queue one delivery; False (and the alert recorded as failed) when the queue is full."""
        try:
            self._queue.put_nowait((alert_id, payload))
            return True
        except queue.Full:
            log.error("webhook queue full (%d): alert #%d not sent", self.settings.webhook_queue_size, alert_id)
            self._record(alert_id, "failed", 0, None, f"delivery queue full ({self.settings.webhook_queue_size})")
            return False

    def requeue_undelivered(self, cur: duckdb.DuckDBPyConnection, since: datetime) -> int:
        """Queue again the alerts a previous pipeline left ``pending``; how many."""
        rows = sqlfiles.Statements(cur).run("alerts/undelivered", {"since": since}).fetchall()
        for alert_id, payload, _attempts in rows:
            self.submit(int(alert_id), json.loads(payload))
        return len(rows)

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued within ``timeout`` seconds, then stop (the rest stays pending)."""
        if self._thread is None:
            return
        with_sentinel = True
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            with_sentinel = False
        self._thread.join(timeout if with_sentinel else 0)
        self._stop.set()
        self._thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None or self._stop.is_set():
                return
            alert_id, payload = item
            try:
                self._deliver(alert_id, payload)
            except Exception:  # a sink failure must never stop the pipeline
                log.exception("webhook delivery of alert #%d failed unexpectedly", alert_id)

    def _deliver(self, alert_id: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode("utf-8")
        headers = {"Content-Type": "application/json", "User-Agent": "customer-health-alerts/1",
                   "X-Alert-Id": str(alert_id)}
        headers.update(self.settings.webhook_headers)
        max_attempts = max(1, self.settings.webhook_max_attempts)
        last_error: str | None = None
        for attempt in range(1, max_attempts + 1):
            error, retryable = self._post(body, headers)
            if error is None:  # delivered; last_error keeps the failure retried before, if any
                self._record(alert_id, "delivered", attempt, utc_now(), last_error)
                return
            last_error = error
            if not retryable or attempt == max_attempts:
                log.error("alert #%d: webhook %s failed after %d attempt(s): %s", alert_id, self.target, attempt,
                          error)
                self._record(alert_id, "failed", attempt, None, error)
                return
            self._record(alert_id, "pending", attempt, None, error)
            delay = min(self.settings.webhook_backoff_initial_s * 2 ** (attempt - 1),
                        self.settings.webhook_backoff_max_s)
            log.warning("alert #%d: webhook %s attempt %d failed (%s); retrying in %.2f s", alert_id, self.target,
                        attempt, error, delay)
            if self._stop.wait(delay):
                return  # shutting down: stays pending, queued again by the next pipeline

    def _post(self, body: bytes, headers: dict[str, str]) -> tuple[str | None, bool]:
        """(None, _) on a 2xx; else (error, retryable)."""
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.settings.webhook_timeout_s) as response:
                response.read()
                return None, False
        except urllib.error.HTTPError as exc:
            retryable = exc.code >= 500 or exc.code in RETRYABLE_STATUS
            return f"HTTP {exc.code} {exc.reason}", retryable
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return f"cannot reach {self.target}: {reason}", True

    def _record(
        self, alert_id: int, status: str, attempts: int, delivered_at: datetime | None, error: str | None
    ) -> None:
        with self._record_lock:
            if self._cursor is None:
                self._cursor = self._cursor_factory()
            for attempt in range(5):
                try:
                    sqlfiles.Statements(self._cursor).run("alerts/record_delivery", {
                        "alert_id": alert_id, "status": status, "attempts": attempts,
                        "delivered_at": delivered_at, "last_error": error,
                    })
                    return
                except duckdb.TransactionException:
                    time.sleep(0.05 * (attempt + 1))  # a concurrent writer touched the row: try again
                except duckdb.Error as exc:
                    log.warning("cannot record the delivery of alert #%d: %s", alert_id, exc)
                    return
