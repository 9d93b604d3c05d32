"""The SQL of the project lives in ``sql/`` as files; this module finds, orders and runs them.

Layout: ``sql/NN_layer/NN_object.sql`` files are applied at start-up, layer by layer and file by file in
name order, and must be repeatable (``create ... if not exists`` / ``create or replace``).
``sql/statements/<group>/<name>.sql`` are statements run on demand with named parameters, all through
``Statements``. A statement whose file starts with ``-- prepared`` (the pipeline's per-batch statements,
where planning costs more than running) is prepared once per connection; the others are planned on each
run. ``transaction`` is the one begin/commit/rollback block.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import re
import threading
import time
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:
    import pandas as pd

SQL_ROOT = Path(__file__).resolve().parent.parent / "sql"
PREPARED_MARK = "-- prepared"

log = logging.getLogger(__name__)


@dataclass
class _Prepared:
    """What is prepared on one connection (under one handle prefix): every Statements instance on the connection
    shares it, so that an instance made for one call prepares nothing the connection holds already, one
    instance's forget() leaves no other holding handles that are gone, and one catalog probe sees a change for
    all of them."""

    handles: dict[str, str] = field(default_factory=dict)  # statement name -> prepared handle
    probe: str | None = None  # the catalog probe's handle (and variable), prepared with the first statement
    prepared_at: float | None = None  # time.monotonic() of the oldest prepared statement


_ON_CONNECTION: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, dict[str, _Prepared]] = (
    weakref.WeakKeyDictionary())
_ON_CONNECTION_LOCK = threading.Lock()


def _prepared_on(con: duckdb.DuckDBPyConnection, prefix: str) -> _Prepared:
    with _ON_CONNECTION_LOCK:
        return _ON_CONNECTION.setdefault(con, {}).setdefault(prefix, _Prepared())


def schema_files(root: Path = SQL_ROOT) -> list[Path]:
    """Every start-up file in the order it is applied."""
    layers = sorted(p for p in root.iterdir() if p.is_dir() and p.name[:2].isdigit())
    return [f for layer in layers for f in sorted(layer.glob("*.sql"))]


def apply_schema(con: duckdb.DuckDBPyConnection, root: Path = SQL_ROOT) -> None:
    """Create or update every table, macro and view, in one transaction."""
    with transaction(con):
        for path in schema_files(root):
            try:
                con.execute(path.read_text(encoding="utf-8"))
            except duckdb.Error as exc:
                raise RuntimeError(f"{path.relative_to(root.parent)}: {exc}") from exc


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run the block in one transaction on ``con``: committed if the block succeeds, else rolled back.

    A failure in the block or in the commit is what propagates, even when the rollback fails too (a
    failed commit, e.g. on a full disk, has already ended the transaction): the rollback's error is logged.
    """
    con.execute("begin")
    try:
        yield con
        con.execute("commit")
    except BaseException as exc:
        try:
            con.execute("rollback")
        except duckdb.Error as rollback_error:
            log.warning("rollback after %s failed: %s", type(exc).__name__, rollback_error)
        raise


@functools.cache
def statement(name: str, root: Path = SQL_ROOT) -> str:
    """The text of ``sql/statements/<name>.sql`` (``name`` like ``ingest/land_tickets``)."""
    path = root / "statements" / f"{name}.sql"
    return path.read_text(encoding="utf-8")


@functools.cache
def is_prepared(name: str) -> bool:
    """Whether the statement's file is marked to be prepared (its first line starts with ``-- prepared``)."""
    return statement(name).lstrip().startswith(PREPARED_MARK)


def sql_literal(value: Any) -> str:
    """A value as a typed DuckDB literal (strings quoted with doubled single quotes)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"cannot render {value!r} as SQL")
        return repr(value) if not isinstance(value, Decimal) else str(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return f"timestamp '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"date '{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(sql_literal(v) for v in value) + "]"
    raise TypeError(f"cannot render a {type(value).__name__} as SQL")


# $name::TYPE, TYPE one word with an optional (precision, scale) and [] suffixes
_TYPED_PARAM = re.compile(r"\$([A-Za-z_]\w*)(?:::(\w+(?:\(\s*\d+\s*(?:,\s*\d+\s*)?\))?(?:\[\])*))?")


@functools.cache
def parameter_types(name: str) -> dict[str, str]:
    """The declared type of every parameter of a statement meant to be prepared (``$name::TYPE``).

    A prepared statement is planned again on every run unless each argument has exactly its parameter's
    type, so every use of a parameter carries one explicit cast; a bare or differently cast use is an error.
    """
    sql = _without_comments(statement(name))
    types: dict[str, str] = {}
    for match in _TYPED_PARAM.finditer(sql):
        param, declared = match.group(1), match.group(2)
        if declared is None:
            raise ValueError(f"sql/statements/{name}.sql: ${param} needs a type (${param}::TYPE) to be prepared")
        if types.setdefault(param, declared.upper()) != declared.upper():
            raise ValueError(f"sql/statements/{name}.sql: ${param} is cast to {types[param]} and to {declared}")
    return types


def _quoted(*names: str) -> str:
    return ".".join('"' + name.replace('"', '""') + '"' for name in names)


def _without_comments(sql: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


class Statements:
    """Runs the named statements (``sql/statements/<name>.sql``) with named parameters (``$name``) on one
    connection: the owner's, a read-only one, or a client of a pipeline serving the database over Quack.

    Locally, statements marked ``-- prepared`` are prepared once and then run with EXECUTE (planning only
    the EXECUTE); the others are planned on each run with bound parameters. DuckDB plans a prepared
    statement again when the catalog it reads changed since it was prepared (any table, view or registered
    relation created or dropped, temporary ones included) or when an argument's type differs from its
    parameter's; and it keeps that new plan for the one run only, so from a catalog change on every run plans
    again until the statement is prepared again. So prepared statements declare each parameter's type
    (``$name::TYPE``, see ``parameter_types``), the batch tables they use are created once and emptied per
    batch (replaced only after a large, staged one: ingest.landing.STAGE_MIN_ROWS), and ``check_catalog``
    re-prepares everything after a catalog change (outside a transaction). It sees a change the way DuckDB
    does: a probe prepared with the others reads a table of every attached database and returns a variable
    that its plan fixed when it was planned, so a run that planned it again returns the variable's newer
    value (a catalog listing cannot see a table created and dropped again). What is prepared belongs to the
    connection: every instance on it shares the prepared statements and the probe. The probe reads the databases
    attached when it was prepared: a database attached later is not seen until the statements are prepared
    again (the owner's connection attaches none after start-up). EXECUTE takes no bound
    parameters, so arguments are typed literals (``sql_literal`` cast to the declared type).

    Over Quack (``uri``) each statement runs whole on the server through ``quack_query`` (a client-side plan
    over a Quack attachment supports one remote scan per query only); quack_query takes no bound parameters
    in 1.5.5, so values are rendered as typed SQL literals and nothing is prepared.

    ``prepare=False`` plans every statement (the reference the prepared runs are tested against).
    """

    def __init__(
        self, con: duckdb.DuckDBPyConnection, uri: str | None = None, *, prepare: bool = True,
        max_age_s: float = 600.0, prefix: str = "ch",
    ) -> None:
        self.con = con
        self.uri = uri
        self.prepare = prepare and uri is None
        self.max_age_s = max_age_s
        self._prefix = prefix
        self._on_con = _prepared_on(con, prefix) if self.prepare else _Prepared()
        if self.prepare:
            # now rather than with the probe, which may be in a transaction: a statement prepared after DDL in
            # a transaction is planned again once it commits (the catalog's version moves then)
            with contextlib.suppress(duckdb.Error):  # an aborted transaction: the probe creates it later
                con.execute(statement("prepared/catalog_probe_table"))
        self.prepares = 0  # statements this instance prepared (tests and benchmarks read it)

    @property
    def mode(self) -> str:
        """``file`` (a local connection) or ``quack`` (a client of a serving pipeline)."""
        return "file" if self.uri is None else "quack"

    def run(self, name: str, params: Mapping[str, Any] | None = None) -> duckdb.DuckDBPyConnection:
        """Execute statement ``name``; parameters the statement does not use are ignored."""
        if self.uri is not None:
            return self._run_remote(name, params or {})
        if self.prepare and is_prepared(name):
            return self._run_prepared(name, params or {})
        sql = statement(name)
        used = {k: v for k, v in (params or {}).items() if f"${k}" in sql}
        return self.con.execute(sql, used) if used else self.con.execute(sql)

    def rows(self, name: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        return self.run(name, params).fetchall()

    def one(self, name: str, params: Mapping[str, Any] | None = None) -> tuple[Any, ...] | None:
        return self.run(name, params).fetchone()

    def row(self, name: str, params: Mapping[str, Any] | None = None) -> tuple[Any, ...]:
        """The row of a statement that always returns one (an aggregate, an insert returning its id)."""
        found = self.run(name, params).fetchone()
        if found is None:
            raise LookupError(f"sql/statements/{name}.sql returned no row")
        return found

    def value(self, name: str, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row (None when there is no row)."""
        row = self.run(name, params).fetchone()
        return None if row is None else row[0]

    def df(self, name: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        return self.run(name, params).df()

    def close(self) -> None:
        self.con.close()

    def check_catalog(self) -> bool:
        """Forget every prepared statement if the catalog changed since they were prepared, or if they were
        prepared more than ``max_age_s`` ago (their plans were chosen for the table sizes of then); True if
        they were forgotten. Call it outside a transaction."""
        on_con = self._on_con
        changed = on_con.probe is not None and not self._probe_current(on_con.probe)
        aged = on_con.prepared_at is not None and time.monotonic() - on_con.prepared_at > self.max_age_s
        if changed or aged:
            self.forget()
        return changed or aged

    def forget(self) -> None:
        """Deallocate everything prepared on the connection (every instance's on it)."""
        on_con = self._on_con
        for handle in [*on_con.handles.values(), *([on_con.probe] if on_con.probe else [])]:
            self.con.execute(f"deallocate {handle}")
        if on_con.probe is not None:
            self.con.execute(f"reset variable {on_con.probe}")
        on_con.handles.clear()
        on_con.prepared_at = None
        on_con.probe = None

    def _prepare_probe(self) -> str:
        """Prepare the catalog probe (before any statement, as its temporary table may be created here)."""
        handle = f"{self._prefix}__catalog_probe"
        self.con.execute(statement("prepared/catalog_probe_table"))
        reads = [f"select 1 from {_quoted(database, *first_table)} where false"
                 for database, first_table in self.con.execute(statement("prepared/catalog_probe_tables")).fetchall()]
        variable = sql_literal(handle)
        self.con.execute(f"set variable {handle} = 0")
        self.con.execute(f"prepare {handle} as select getvariable({variable}), (select count(*) from ("
                         + " union all ".join(["select 1 from temp.main.catalog_probe where false", *reads]) + "))")
        self.con.execute(f"set variable {handle} = 1")
        return handle

    def _probe_current(self, handle: str) -> bool:
        """Whether the probe ran on the plan it was prepared with (no catalog it reads changed since)."""
        try:
            row = self.con.execute(f"execute {handle}").fetchone()
        except (duckdb.CatalogException, duckdb.BinderException, duckdb.TransactionException):
            return False  # a table it reads was dropped, or its transaction rolled back
        except duckdb.Error as error:  # anything else: still prepare again, but say why
            log.warning("catalog probe %s failed, preparing every statement again: %s", handle, error)
            return False
        return row is not None and row[0] == 0

    def _run_remote(self, name: str, params: Mapping[str, Any]) -> duckdb.DuckDBPyConnection:
        sql = statement(name)
        used = {k: v for k, v in params.items() if f"${k}" in sql}
        for key in sorted(used, key=len, reverse=True):
            sql = sql.replace(f"${key}", sql_literal(used[key]))
        return self.con.execute("select * from quack_query(?, ?)", [self.uri, sql.strip().rstrip(";")])

    def _run_prepared(self, name: str, params: Mapping[str, Any]) -> duckdb.DuckDBPyConnection:
        types = parameter_types(name)
        handle = self._on_con.handles.get(name) or self._prepare(name)
        missing = sorted(set(types) - set(params))
        if missing:
            raise KeyError(f"sql/statements/{name}.sql: no value for ${', $'.join(missing)}")
        args = ", ".join(f"{p} := cast({sql_literal(params[p])} as {t})" for p, t in types.items())
        return self.con.execute(f"execute {handle}({args})" if args else f"execute {handle}")

    def _prepare(self, name: str) -> str:
        sql = statement(name).strip().rstrip(";")
        if len(self.con.extract_statements(sql)) != 1:
            # PREPARE would take the first statement and run the others at once.
            raise ValueError(f"sql/statements/{name}.sql: a prepared statement file holds exactly one statement")
        handle = self._prefix + "_" + re.sub(r"\W", "_", name)
        on_con = self._on_con
        if on_con.probe is None:
            on_con.probe = self._prepare_probe()
        # DuckDB 1.5.5 keeps in a prepared plan the column statistics of the data at PREPARE time; later
        # runs on other data return wrong rows (strings cut short, join rows lost) or fail (duckdb#23704,
        # #24182; fixed upstream by planning PREPARE without statistics propagation, #24696). Do the same here.
        disabled = self.con.execute("select current_setting('disabled_optimizers')").fetchall()[0][0]
        without_statistics = ",".join(filter(None, [disabled, "statistics_propagation"]))
        self.con.execute(f"set disabled_optimizers = {sql_literal(without_statistics)}")
        try:
            self.con.execute(f"prepare {handle} as {sql}")
        finally:
            self.con.execute(f"set disabled_optimizers = {sql_literal(disabled)}")
        on_con.handles[name] = handle
        on_con.prepared_at = on_con.prepared_at or time.monotonic()
        self.prepares += 1
        return handle
