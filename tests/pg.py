"""A real PostgreSQL server for tests: initdb in a temporary directory, a free port, stopped at the end.

The binaries are Debian's (`postgresql` package, /usr/lib/postgresql/<version>/bin; `.ci/run` installs it
when missing). PostgreSQL refuses to run as root: as root the server runs as the `postgres` user (created
by the package), over a directory it owns.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.broker import free_port

PG_ROOTS = (Path("/usr/lib/postgresql"),)


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL's bin directory (None: not installed)."""
    for root in PG_ROOTS:
        versions = sorted((p for p in root.glob("*/bin") if (p / "initdb").exists()),
                          key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
        if versions:
            return versions[-1]
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@dataclass
class PostgresServer:
    bin: Path
    data_dir: Path
    port: int
    user: str = "postgres"
    socket_dir: Path | None = None  # set when TCP clients need a password: the tools then use the socket

    def run(self, args: Sequence[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        """A PostgreSQL tool, as the server's OS user when we are root."""
        command = [str(a) for a in args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        # cwd: the server's own directory, which its OS user can enter (PostgreSQL's tools fail when they cannot
        # read the current directory, e.g. a clone under root's 0700 home).
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120,
                              cwd=self.data_dir.parent)

    def createdb(self, name: str) -> str:
        """A new database; returns the DuckLake catalog string for it (no password: trust auth)."""
        host = str(self.socket_dir) if self.socket_dir is not None else "127.0.0.1"
        self.run([self.bin / "createdb", "-h", host, "-p", str(self.port), "-U", self.user, name])
        return self.catalog(name)

    def catalog(self, name: str) -> str:
        return f"postgres:dbname={name} host=127.0.0.1 port={self.port} user={self.user}"

    def stop(self) -> None:
        self.run([self.bin / "pg_ctl", "-D", self.data_dir, "-m", "fast", "-w", "stop"], check=False)


def start_postgres(password: str | None = None) -> Iterator[PostgresServer]:
    """Start a server on a free port; yields it; stops it and removes its directory at the end. With
    ``password``: TCP clients must give it (scram-sha-256; the server's own tools use its socket)."""
    binaries = pg_bin()
    if binaries is None:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql (as .ci/run does)")
    base = Path(tempfile.mkdtemp(prefix="ch-pg-"))
    data = base / "data"
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(base, account.pw_uid, account.pw_gid)
    server = PostgresServer(binaries, data, free_port())
    try:
        auth = ["-A", "trust"] if password is None else ["--auth-local=trust", "--auth-host=scram-sha-256"]
        server.run([binaries / "initdb", "-D", data, *auth, "-U", server.user, "-E", "UTF8"])
        options = f"-p {server.port} -k {base} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off"
        server.run([binaries / "pg_ctl", "-D", data, "-o", options, "-l", base / "server.log", "-w", "start"])
        if password is not None:
            server.socket_dir = base
            literal = "'" + password.replace("'", "''") + "'"
            server.run([binaries / "psql", "-h", base, "-p", str(server.port), "-U", server.user, "-v",
                        "ON_ERROR_STOP=1", "-c", f"alter user {server.user} password {literal}"])
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)
