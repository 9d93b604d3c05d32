"""The database's files are private to their owner, and readers trust an endpoint file only when it is
the serving pipeline's."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from customer_health.config import Settings
from customer_health.db import _pipeline_uri, endpoint_path, open_owner, open_reader, serve, token_path
from customer_health.errors import UserError
from ingest.broker import free_port
from tests.conftest import REPO


def wal_path(db: Path) -> Path:
    return db.with_name(db.name + ".wal")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_database_wal_token_and_endpoint_are_created_private_under_the_usual_umask(
        tmp_path: Path, usual_umask: None) -> None:
    settings = Settings(db_path=tmp_path / "data" / "h.duckdb").with_overrides(quack__port=free_port())
    owner = open_owner(settings)
    try:
        owner.execute("create table scratch as select range as n from range(10)")
        server = serve(owner, settings)
        try:
            db = settings.db_path
            assert wal_path(db).exists()
            assert {p.name: mode(p) for p in (db, wal_path(db), token_path(db), endpoint_path(db))} == {
                p.name: 0o600 for p in (db, wal_path(db), token_path(db), endpoint_path(db))}
            assert mode(db.parent) == 0o700
        finally:
            server.stop()
    finally:
        owner.close()


def test_a_database_others_may_read_is_named_in_a_warning_at_start(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(db_path=tmp_path / "h.duckdb")
    open_owner(settings).close()
    settings.db_path.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        open_owner(settings).close()
    assert any(f"{settings.db_path} is accessible to other users (mode 0644)" in r.getMessage()
               for r in caplog.records), caplog.text


def test_cli_exports_are_private_under_the_usual_umask(tmp_path: Path) -> None:
    out = tmp_path / "events"
    subprocess.run([sys.executable, "-m", "customer_health.cli", "simulate", "--customers", "5", "--history-days",
                    "2", "--no-live", "--jsonl", str(out), "--db", str(tmp_path / "x.duckdb")],
                   check=True, capture_output=True, cwd=REPO, timeout=120, preexec_fn=lambda: os.umask(0o022))
    files = sorted(out.glob("*.jsonl"))
    assert files and {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}


# --- the endpoint file ---------------------------------------------------------------------------------


class Listener:
    """A TCP listener in this process that records whether anyone connected (a planted endpoint)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connected = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        self.connected.set()
        conn.close()


@pytest.fixture
def file_db(tmp_path: Path) -> Settings:
    settings = Settings(db_path=tmp_path / "h.duckdb")
    open_owner(settings).close()
    token_path(settings.db_path).write_text("secret-token", encoding="utf-8")
    token_path(settings.db_path).chmod(0o600)
    return settings


def plant(settings: Settings, uri: str, pid: int) -> None:
    path = endpoint_path(settings.db_path)
    path.write_text(json.dumps({"uri": uri, "pid": pid}), encoding="utf-8")
    path.chmod(0o600)


def test_an_endpoint_naming_a_live_pid_that_does_not_listen_there_is_ignored(
        file_db: Settings, caplog: pytest.LogCaptureFixture) -> None:
    listener = Listener()
    plant(file_db, f"quack:127.0.0.1:{listener.port}", 1)
    with caplog.at_level(logging.WARNING):
        db = open_reader(file_db)
    try:
        assert db.mode == "file"
    finally:
        db.close()
    assert not listener.connected.wait(0.5), "the token went to an address the pipeline does not serve"
    assert any(f"pid 1 does not listen on port {listener.port}" in r.getMessage() for r in caplog.records)


def test_an_endpoint_naming_a_remote_address_is_ignored(file_db: Settings, caplog: pytest.LogCaptureFixture) -> None:
    plant(file_db, "quack:192.0.2.10:9494", os.getpid())
    with caplog.at_level(logging.WARNING):
        assert _pipeline_uri(file_db) is None
    assert any("names 192.0.2.10:9494, not a loopback address" in r.getMessage() for r in caplog.records)


def test_an_endpoint_others_may_write_is_ignored(file_db: Settings, caplog: pytest.LogCaptureFixture) -> None:
    listener = Listener()
    plant(file_db, f"quack:127.0.0.1:{listener.port}", os.getpid())
    endpoint_path(file_db.db_path).chmod(0o666)
    with caplog.at_level(logging.WARNING):
        assert _pipeline_uri(file_db) is None
    assert any("others may write it" in r.getMessage() for r in caplog.records)


def test_an_endpoint_whose_pid_owns_the_listening_socket_is_believed(file_db: Settings) -> None:
    port = free_port()
    code = ("import socket, sys, time; s = socket.create_server(('127.0.0.1', int(sys.argv[1]))); "
            "print('up', flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", code, str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "up"
        plant(file_db, f"quack:127.0.0.1:{port}", child.pid)
        assert _pipeline_uri(file_db) == f"quack:127.0.0.1:{port}"
        plant(file_db, f"quack:127.0.0.1:{free_port()}", child.pid)  # alive, but listening elsewhere
        assert _pipeline_uri(file_db) is None
    finally:
        child.kill()
        child.wait()


def test_serving_the_database_beyond_loopback_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(db_path=tmp_path / "h.duckdb").with_overrides(quack__host="0.0.0.0", quack__port=free_port())
    owner = open_owner(settings)
    try:
        # DuckDB 1.5.5's Quack refuses hostnames other than localhost unless told otherwise: the warning
        # comes first either way.
        with caplog.at_level(logging.WARNING), contextlib.suppress(UserError):
            serve(owner, settings).stop()
    finally:
        owner.close()
    assert any("the database (Quack) listens on 0.0.0.0" in r.getMessage() for r in caplog.records), caplog.text
