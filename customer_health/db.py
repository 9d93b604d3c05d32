"""The one place that opens the database, for the pipeline (owner) and for every reader.

DuckDB allows one process per file (a second one, even read-only, fails with "Conflicting lock").
The pipeline owns the file and serves it over DuckDB's Quack protocol; readers attach as clients.
When no pipeline is running, readers open the file read-only.
"""

from __future__ import annotations

import contextlib
import importlib
import ipaddress
import json
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from customer_health.config import Settings
from customer_health.errors import UserError
from customer_health.exposure import is_loopback, warn_if_exposed
from customer_health.private import make_private_dir, restrict_umask, warn_if_readable_by_others, write_private_text
from customer_health.sqlfiles import Statements, apply_schema


def _extension_path(package: str, name: str) -> str:
    module = importlib.import_module(package)
    if module.__file__ is None:
        raise UserError(f"the {package} wheel is not installed as files: reinstall with `make test`")
    found = sorted(Path(module.__file__).parent.glob(f"extensions/*/{name}.duckdb_extension"))
    if not found:
        raise UserError(f"the {package} wheel holds no {name} extension: reinstall with `make test`")
    return str(found[-1])


def load_quack(con: duckdb.DuckDBPyConnection) -> None:
    """Load the signed quack (and httpfs, which it needs) extensions shipped in their wheels."""
    con.execute(f"LOAD '{_extension_path('duckdb_extension_httpfs', 'httpfs')}'")
    con.execute(f"LOAD '{_extension_path('duckdb_extension_quack', 'quack')}'")


_log = logging.getLogger("customer_health.db")

# How long the owner waits for short-lived read-only readers to release the file (seconds).
OWNER_LOCK_WAIT_S = 10.0


def token_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".token")


def endpoint_path(db_path: Path) -> Path:
    """Written by a serving pipeline: where it listens and its pid; removed when it stops."""
    return db_path.with_name(db_path.name + ".quack.json")


def wal_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".wal")


def resolve_token(settings: Settings) -> str:
    """The configured token, else the one stored next to the database (created 0600 on first use)."""
    if settings.quack.token:
        return settings.quack.token.get_secret_value()
    path = token_path(settings.db_path)
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    make_private_dir(path.parent)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token)
    return token


def refuse_on_lake(settings: Settings, command: str, why: str) -> None:
    """UserError when ``store = "ducklake"``: ``command`` cannot write the lake safely, for reason ``why``."""
    if settings.store == "ducklake":
        raise UserError(f'{command} is not available with store = "ducklake" (lake {settings.ducklake.catalog}): '
                        f"{why}")


def open_owner(settings: Settings, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """Open the database read-write as its single owner and bring the schema up to date.

    ``threads``: DuckDB worker threads for this database (None: DuckDB's default, one per core).
    The database and its WAL are created 0600 (see customer_health.private); existing files that other
    users may read are named in a warning. With ``store = "ducklake"`` there is no such file: UserError (a
    command that writes must write the lake, or refuse saying why: :func:`refuse_on_lake`).
    """
    if settings.store == "ducklake":
        refuse_on_lake(settings, "this command", f"it would write the local file {settings.db_path}, which no "
                       "pipeline or reader of the lake reads")
    restrict_umask()
    make_private_dir(settings.db_path.parent)
    db = settings.db_path
    warn_if_readable_by_others([db, wal_path(db), token_path(db), endpoint_path(db)])
    # Readers without a pipeline open the file read-only for a moment (status, a dashboard refresh):
    # wait that out rather than fail the pipeline's start.
    deadline = time.monotonic() + OWNER_LOCK_WAIT_S
    while True:
        try:
            con = duckdb.connect(str(settings.db_path))
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise UserError(f"cannot open {settings.db_path}: {exc}") from None
            if time.monotonic() >= deadline:
                raise UserError(
                    f"{settings.db_path} is already owned by another process (is a pipeline running?)"
                ) from None
            time.sleep(0.1)
    con.execute("set timezone = 'UTC'")
    con.execute(f"set checkpoint_threshold = '{int(settings.pipeline.checkpoint_threshold_mb)}MiB'")
    if threads is not None:
        con.execute(f"set threads = {int(threads)}")
    apply_schema(con)
    return con


def open_working_store(settings: Settings, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory database with the schema: a lake pipeline's working store (its model and health), or a
    reader's copy of the lake. Nothing of it outlives the process; the lake is the store."""
    con = duckdb.connect()
    con.execute("set timezone = 'UTC'")
    if threads is not None:
        con.execute(f"set threads = {int(threads)}")
    apply_schema(con)
    return con


@dataclass
class QuackServer:
    """A Quack endpoint served by the owning process; stop() releases the port and the endpoint file."""

    con: duckdb.DuckDBPyConnection
    uri: str
    endpoint_file: Path

    def stop(self) -> None:
        with contextlib.suppress(duckdb.Error):
            self.con.execute("call quack_stop(?)", [self.uri])
        with contextlib.suppress(FileNotFoundError):
            self.endpoint_file.unlink()


def serve(owner: duckdb.DuckDBPyConnection, settings: Settings) -> QuackServer:
    """Serve the owner's database over Quack on its own cursor; other cursors keep writing."""
    server_con = owner.cursor()
    load_quack(server_con)
    uri = f"quack:{settings.quack.host}:{settings.quack.port}"
    warn_if_exposed("the database (Quack)", settings.quack.host, settings.quack.port,
                    "only its token protects it, and the connection is not encrypted")
    try:
        server_con.execute("call quack_serve(?, token => ?)", [uri, resolve_token(settings)])
    except duckdb.Error as exc:
        raise UserError(f"cannot serve the database on {uri}: {exc}") from None
    endpoint = endpoint_path(settings.db_path)
    write_private_text(endpoint, json.dumps({"uri": uri, "pid": os.getpid()}))
    return QuackServer(server_con, uri, endpoint)


def _pipeline_uri(settings: Settings) -> str | None:
    """The URI of a live pipeline serving this database, if one is running.

    The endpoint file is believed only when it is this user's and not writable by others, names a
    loopback (or this machine's wildcard) address, and its pid owns the socket listening there, or it
    is this process's own; otherwise readers fall back as when no pipeline runs, with a warning, so the
    token never goes to an address that a stale or planted file names.
    """
    endpoint = endpoint_path(settings.db_path)
    try:
        info = json.loads(endpoint.read_text(encoding="utf-8"))
        pid = int(info["pid"])
        host, port_text = str(info["uri"]).removeprefix("quack:").rsplit(":", 1)
        port = int(port_text)
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, KeyError, TypeError, AttributeError, ProcessLookupError,
            PermissionError):
        return None
    problem = _endpoint_problem(endpoint, pid, host, port)
    if problem:
        _log.warning("ignoring %s: %s; reading the database as when no pipeline runs", endpoint, problem)
        return None
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return str(info["uri"])
    return None


def _endpoint_problem(endpoint: Path, pid: int, host: str, port: int) -> str | None:
    """Why the endpoint file is not to be trusted (None: it is)."""
    st = endpoint.stat()
    if st.st_uid != os.getuid():
        return f"it belongs to uid {st.st_uid}, not to this user"
    if st.st_mode & 0o022:
        return f"others may write it (mode {st.st_mode & 0o777:04o})"
    if not (is_loopback(host) or _is_wildcard(host)):
        return f"it names {host}:{port}, not a loopback address"
    if pid == os.getpid():
        return None
    try:
        listening = _listening_inodes(pid, port)
        owned = _socket_inodes(pid)
    except OSError as exc:
        return f"cannot check that pid {pid} listens on port {port} ({exc.strerror or exc})"
    if not listening & owned:
        return f"pid {pid} does not listen on port {port}"
    return None


def _is_wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def _listening_inodes(pid: int, port: int) -> set[int]:
    """Socket inodes listening on TCP ``port`` in ``pid``'s network namespace (Linux /proc)."""
    inodes = set()
    for table in ("tcp", "tcp6"):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text(encoding="ascii").splitlines()[1:]:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(int(fields[9]))
    return inodes


def _socket_inodes(pid: int) -> set[int]:
    """Inodes of the sockets ``pid`` holds open."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    return inodes


# How readers read a lake (store = "ducklake"): registered by the composition root, which knows how the
# lake's messages become the model (customer_health.composition.open_lake_copy).
_lake_reader: Callable[[Settings], Statements] | None = None


def register_lake_reader(open_copy: Callable[[Settings], Statements]) -> None:
    global _lake_reader
    _lake_reader = open_copy


def open_reader(settings: Settings, uri: str | None = None) -> Statements:
    """A reader of this database: through Quack when a pipeline serves it, else the file read-only; with
    ``store = "ducklake"``, an in-memory copy of the model landed from the lake (several readers at once).

    The token is never part of an error message.
    """
    if settings.store == "ducklake":
        if _lake_reader is None:
            raise RuntimeError("no lake reader is registered (customer_health.composition registers it)")
        return _lake_reader(settings)
    uri = uri or _pipeline_uri(settings)
    if uri is None:
        if not settings.db_path.exists():
            raise UserError(f"no database at {settings.db_path}: run `customer-health ingest` or `load` first")
        try:
            con = duckdb.connect(str(settings.db_path), read_only=True)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise UserError(
                    f"{settings.db_path} is locked by another process that does not serve it over Quack"
                ) from None
            raise UserError(f"cannot open {settings.db_path}: {exc}") from None
        con.execute("set timezone = 'UTC'")
        return Statements(con)
    con = duckdb.connect()
    con.execute("set timezone = 'UTC'")
    load_quack(con)
    token = resolve_token(settings) if settings.quack.token or token_path(settings.db_path).exists() else ""
    con.execute("create temporary secret pipeline_token (type quack, token ?)", [token])
    try:
        con.execute("select * from quack_query(?, 'select 1')", [uri]).fetchall()
    except duckdb.Error as exc:
        message = str(exc).replace(token, "***") if token else str(exc)
        raise UserError(f"cannot reach the pipeline at {uri}: {message.splitlines()[0]}") from None
    return Statements(con, uri)


@contextlib.contextmanager
def reader(settings: Settings, uri: str | None = None) -> Iterator[Statements]:
    r = open_reader(settings, uri)
    try:
        yield r
    finally:
        r.close()


def load_ducklake(con: duckdb.DuckDBPyConnection) -> None:
    """Load the signed ducklake, postgres_scanner and httpfs extensions shipped in their 1.5.5 wheels."""
    con.execute(f"LOAD '{_extension_path('duckdb_extension_httpfs', 'httpfs')}'")
    con.execute(f"LOAD '{_extension_path('duckdb_extension_postgres_scanner', 'postgres_scanner')}'")
    con.execute(f"LOAD '{_extension_path('duckdb_extension_ducklake', 'ducklake')}'")


LAKE_ALIAS = "lake"
_LAKE_INIT_ATTEMPTS = 8


def reach_data_path(con: duckdb.DuckDBPyConnection, settings: Settings, alias: str = LAKE_ALIAS) -> str:
    """Let ``con`` read and write under the lake's data path (s3:// through httpfs with the [ducklake] s3_*
    settings as a temporary secret; a directory created when missing); the data path (a directory's ending
    with "/")."""
    lake = settings.ducklake
    con.execute(f"LOAD '{_extension_path('duckdb_extension_httpfs', 'httpfs')}'")
    data_path = lake.data_path
    if data_path.startswith("s3://"):
        options: list[str] = ["type s3", "scope ?"]
        values: list[object] = [data_path]
        for option, value in (("key_id", lake.s3_access_key_id),
                              ("secret", lake.s3_secret_access_key.get_secret_value()),
                              ("region", lake.s3_region), ("endpoint", lake.s3_endpoint),
                              ("url_style", lake.s3_url_style)):
            if value:
                options.append(f"{option} ?")
                values.append(value)
        options.append(f"use_ssl {'true' if lake.s3_use_ssl else 'false'}")
        con.execute(f"create or replace temporary secret {alias}_s3 ({', '.join(options)})", values)
        return data_path
    if not data_path.endswith("/"):
        data_path += "/"
    make_private_dir(Path(data_path))
    return data_path


def attach_lake(con: duckdb.DuckDBPyConnection, settings: Settings, alias: str = LAKE_ALIAS) -> None:
    """Attach the [ducklake] lake to ``con`` as ``alias`` (its catalog in PostgreSQL, its data at data_path).

    The password is bound into a temporary DuckDB secret (``<alias>_catalog``, TYPE postgres) that the catalog's
    connection takes by name (METADATA_PARAMETERS): no SQL text, database path or engine error holds it.
    """
    lake = settings.ducklake
    load_ducklake(con)
    data_path = reach_data_path(con, settings, alias)
    quoted_catalog, quoted_path = lake.catalog.replace("'", "''"), data_path.replace("'", "''")
    attach_options = f"data_path '{quoted_path}'"
    password = lake.password.get_secret_value()
    if password:
        con.execute(f"create or replace temporary secret {alias}_catalog (type postgres, password ?)", [password])
        attach_options += f", metadata_parameters map {{'secret': '{alias}_catalog'}}"
    try:
        for attempt in range(_LAKE_INIT_ATTEMPTS):
            try:
                con.execute(f"attach if not exists 'ducklake:{quoted_catalog}' as {alias} ({attach_options})")
                break
            except duckdb.Error as exc:
                # A new lake: processes attaching at once race to create DuckLake's catalog tables, and the
                # losers fail; once the winner's tables are there, the attach succeeds.
                if "Failed to initialize DuckLake" not in str(exc) or attempt == _LAKE_INIT_ATTEMPTS - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        # Neither secret is in the engine's text; redacted all the same, should a later version echo one.
        for secret in sorted({password, lake.s3_secret_access_key.get_secret_value()} - {""}, key=len, reverse=True):
            message = message.replace(secret, "***")
        raise UserError(f"cannot attach the lake (ducklake.catalog {lake.catalog!r}, ducklake.data_path "
                        f"{lake.data_path!r}): {message}") from None
