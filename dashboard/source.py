"""Where the dashboard reads from: the running pipeline over Quack, else the database file read-only; with
store = "ducklake", one in-memory copy of the lake per process, refreshed with the lake's new commits at most
every dashboard.refresh_seconds (several dashboards read one lake at once).

No streamlit here. A Quack client is kept open per process (opening one loads the extension, ~0.2 s)
and every query runs on a cursor of its own, so concurrent sessions do not share a DuckDB cursor. The
file is opened per read and closed at once: a reader holding it would keep a pipeline from starting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import duckdb

from customer_health.composition import LakeCopy
from customer_health.config import Settings
from customer_health.db import open_reader, resolve_token, token_path
from customer_health.errors import UserError
from customer_health.sqlfiles import Statements
from ingest.broker import port_open

T = TypeVar("T")


@dataclass(frozen=True)
class SourceInfo:
    """How the last read was served: 'quack' (live pipeline), 'file' (read-only, no pipeline) or 'lake' (a copy
    of the lake, store = "ducklake"; uri: its catalog)."""

    mode: str
    uri: str | None


class DataSource:
    """Runs read functions against the freshest copy of the data; thread-safe."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._quack: Statements | None = None
        self._lake: LakeCopy | None = None
        self._lake_refreshed_at = 0.0
        self.last = SourceInfo("none", None)

    def read(self, fn: Callable[[Statements], T]) -> T:
        """``fn(reader)`` on the pipeline when one serves the database, else on the file.

        Raises UserError (token redacted) when neither is readable. A Quack client whose pipeline went
        away is dropped and the read retried once on whatever is there now.
        """
        try:
            if self.settings.store == "ducklake":
                return self._on_lake(fn)
            client = self._quack
            if client is not None:
                try:
                    return self._on_quack(client, fn)
                except duckdb.Error:
                    self._drop_quack(client)
            db = open_reader(self.settings)
            if db.uri is not None:
                with self._lock:
                    if self._quack is None:
                        self._quack = db
                    else:
                        db.close()
                return self._on_quack(self._quack, fn)
            try:
                self.last = SourceInfo("file", None)
                return fn(db)
            finally:
                db.close()
        except UserError as exc:
            raise UserError(self.redact(str(exc))) from None
        except duckdb.Error as exc:
            raise DataError(self.redact(str(exc).splitlines()[0])) from None

    def _on_lake(self, fn: Callable[[Statements], T]) -> T:
        with self._lock:
            if self._lake is None:
                self._lake = LakeCopy(self.settings)
                self._lake_refreshed_at = time.monotonic()
            elif time.monotonic() - self._lake_refreshed_at >= self.settings.dashboard.refresh_seconds:
                self._lake.refresh()
                self._lake_refreshed_at = time.monotonic()
            cursor = self._lake.con.cursor()
        try:
            self.last = SourceInfo("lake", self.settings.ducklake.catalog)
            return fn(Statements(cursor))
        finally:
            cursor.close()

    def _on_quack(self, client: Statements, fn: Callable[[Statements], T]) -> T:
        with self._lock:
            cursor = client.con.cursor()
        try:
            self.last = SourceInfo("quack", client.uri)
            return fn(Statements(cursor, client.uri))
        finally:
            cursor.close()

    def _drop_quack(self, client: Statements) -> None:
        with self._lock:
            if self._quack is client:
                self._quack = None
                try:
                    client.close()
                except duckdb.Error:
                    pass

    def redact(self, message: str) -> str:
        """The message with the Quack token replaced by ***: it must never reach a page or a log."""
        for secret in self._secrets():
            message = message.replace(secret, "***")
        return message

    def _secrets(self) -> list[str]:
        found = [self.settings.quack.token.get_secret_value()]
        path = token_path(self.settings.db_path)
        if path.exists():
            try:
                found.append(resolve_token(self.settings.with_overrides(quack__token="")))
            except OSError:
                pass
        return [s for s in found if s]

    def broker_reachable(self, timeout: float = 0.5) -> bool:
        """Whether any configured Kafka bootstrap server accepts a TCP connection."""
        for server in self.settings.kafka.bootstrap_servers.split(","):
            host, _, port = server.strip().rpartition(":")
            if host and port.isdigit() and port_open(host.strip("[]"), int(port), timeout):
                return True
        return False

    def close(self) -> None:
        with self._lock:
            if self._lake is not None:
                self._lake.close()
                self._lake = None
            if self._quack is not None:
                self._quack.close()
                self._quack = None


class DataError(Exception):
    """A read failed in the database (message is one line, token redacted)."""
