"""Files that hold customer data or secrets are private to their owner.

The database, its write-ahead log, the token and endpoint files, and exports (dossiers, simulated
event files) are created 0600 and new directories 0700, whatever the umask; an existing file that
others may read is named in a warning at start-up.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger("customer_health.private")

PRIVATE_UMASK = 0o077


def restrict_umask() -> None:
    """From now on this process creates files without group or other permissions (DuckDB creates the
    database and its WAL itself, so the umask is the one way to reach them)."""
    os.umask(os.umask(PRIVATE_UMASK) | PRIVATE_UMASK)


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and its parents) 0700 if missing; an existing directory keeps its mode."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def write_private_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically, the file 0600 from its creation."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_private_bytes(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically, the file 0600 from its creation."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def readable_by_others(path: Path) -> int | None:
    """The permission bits of ``path`` when group or others have any access, else None (also when missing)."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    return mode if mode & 0o077 else None


def warn_if_readable_by_others(paths: Iterable[Path]) -> list[Path]:
    """Log one warning per existing file that group or others may access; returns those files."""
    loose = []
    for path in paths:
        mode = readable_by_others(path)
        if mode is not None:
            log.warning("%s is accessible to other users (mode %04o) but holds customer data or secrets: "
                        "chmod 600 %s", path, mode, path)
            loose.append(path)
    return loose
