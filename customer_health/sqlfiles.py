"""The SQL of the project lives in ``sql/`` as files; this module finds, orders and runs them.

Layout: ``sql/NN_layer/NN_object.sql`` files are applied at start-up, layer by layer and file by file in
name order, and must be repeatable (``create ... if not exists`` / ``create or replace``).
``sql/statements/<group>/<name>.sql`` are statements run on demand with bound parameters.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

SQL_ROOT = Path(__file__).resolve().parent.parent / "sql"


def schema_files(root: Path = SQL_ROOT) -> list[Path]:
    """Every start-up file in the order it is applied."""
    layers = sorted(p for p in root.iterdir() if p.is_dir() and p.name[:2].isdigit())
    return [f for layer in layers for f in sorted(layer.glob("*.sql"))]


def apply_schema(con: duckdb.DuckDBPyConnection, root: Path = SQL_ROOT) -> None:
    """Create or update every table, macro and view, in one transaction."""
    con.execute("begin")
    try:
        for path in schema_files(root):
            try:
                con.execute(path.read_text(encoding="utf-8"))
            except duckdb.Error as exc:
                raise RuntimeError(f"{path.relative_to(root.parent)}: {exc}") from exc
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


@functools.cache
def statement(name: str, root: Path = SQL_ROOT) -> str:
    """The text of ``sql/statements/<name>.sql`` (``name`` like ``ingest/land_tickets``)."""
    path = root / "statements" / f"{name}.sql"
    return path.read_text(encoding="utf-8")


def run(
    con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, Any] | None = None
) -> duckdb.DuckDBPyConnection:
    """Execute a named statement with named parameters (``$name`` in the SQL)."""
    sql = statement(name)
    if params:
        used = {k: v for k, v in params.items() if f"${k}" in sql}
        return con.execute(sql, used)
    return con.execute(sql)
