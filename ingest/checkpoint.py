"""Checkpoints of a lake pipeline's working store (``store = "ducklake"``), so that opening one is not a replay of
the whole lake.

The leader (the pipeline owning partition 0 of the customers topic, as for the portfolio-wide alerts) writes
one every ``ducklake.checkpoint_interval_s`` and once more when it stops cleanly: every table of its working
store but the ones that are its own or the group's in the lake (sql/statements/lake/checkpoint_tables.sql)
as Parquet files under ``<data_path>checkpoints/<group>/<id>/``, the ids of the lake commits those tables
hold (``commits.parquet``) and how far its sequences went, all read in one transaction (one snapshot), then
a row in the lake's manifest (``lake.checkpoints``). A checkpoint without its row (its writer died while
writing it) is never read. Once the new row is in, the checkpoints older than the newest
:data:`KEEP` are removed (their rows, then their files), so the one a reader is loading is still there.

A reader or a starting pipeline loads the newest checkpoint made with its schema and its [health]
settings (:func:`open_from_checkpoint`), then lands only the lake commits it does not cover; with
none that fits (or one it cannot read), it replays the whole lake as before.

The files are written and read by DuckDB (COPY, read_parquet), so an s3:// data path is served by httpfs; a
local directory's superseded checkpoints are deleted, while on s3 they are left to a lifecycle rule of the
bucket (DuckDB cannot delete objects).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from customer_health.clock import utc_now
from customer_health.config import Settings
from customer_health.db import reach_data_path
from customer_health.private import make_private_dir
from customer_health.sqlfiles import Statements, schema_files, statement, transaction
from ingest.lake import LakeLog, lake_tables

log = logging.getLogger(__name__)

KEEP = 2  # complete checkpoints kept: the newest, and the one before it that a reader may still be loading
COMMITS_FILE = "commits.parquet"
SEQUENCES_FILE = "sequences.parquet"


@dataclass(frozen=True)
class Checkpoint:
    checkpoint_id: str
    path: str  # its directory, ending with "/"
    commits: int


def schema_hash() -> str:
    """sha256 of the working store's schema files (a checkpoint of another schema is never loaded)."""
    digest = hashlib.sha256()
    for path in schema_files():
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


# [health] settings that say when the history is derived, not what it holds.
_SCHEDULING = frozenset({"history_rebuild_interval_seconds", "history_defer_lag_messages"})


def settings_hash(settings: Settings) -> str:
    """sha256 of the settings a working store is derived with: [health] but its scheduling."""
    derived = {k: v for k, v in settings.health.model_dump(mode="json").items() if k not in _SCHEDULING}
    return hashlib.sha256(json.dumps(derived, sort_keys=True).encode()).hexdigest()


def checkpoints_root(settings: Settings) -> str:
    """Where the group's checkpoints go: ``<data_path>checkpoints/<group>/``."""
    data_path = settings.ducklake.data_path
    data_path = data_path if data_path.endswith("/") else data_path + "/"
    group = re.sub(r"[^A-Za-z0-9._-]", "-", settings.kafka.group_id)
    return f"{data_path}checkpoints/{group}/"


def _is_local(path: str) -> bool:
    return "://" not in path


def _templated(name: str, **tokens: str) -> str:
    sql = statement(name)
    for token, value in tokens.items():
        sql = sql.replace(f"__{token}__", value)
    return sql


def _quoted_path(path: str) -> str:
    return path.replace("'", "''")


def _identifier(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return name


def ensure_manifest(lake: LakeLog) -> None:
    lake.commit_owned((), lambda con: Statements(con, prepare=False).run("lake/create_checkpoints"))


def has_manifest(lake: LakeLog) -> bool:
    return "checkpoints" in lake.read(lake_tables)


def write_checkpoint(con: duckdb.DuckDBPyConnection, lake: LakeLog, settings: Settings,
                     applied: Collection[str]) -> Checkpoint:
    """Write a checkpoint of the working store ``con``, which holds exactly the lake commits ``applied``, and
    enter it in the manifest; then remove the superseded ones. Its manifest row is the last thing written."""
    checkpoint_id = str(uuid.uuid4())
    path = f"{checkpoints_root(settings)}{checkpoint_id}/"
    cur = con.cursor()
    try:
        reach_data_path(cur, settings, "checkpoint")
        if _is_local(path):
            make_private_dir(Path(path))
        commits = pa.table({"commit_id": pa.array(sorted(applied), pa.string())})
        with transaction(cur):  # one snapshot of every table
            tables = [str(t) for (t,) in Statements(cur, prepare=False).rows("lake/checkpoint_tables")]
            for table in tables:
                cur.execute(_templated("lake/checkpoint_write_table", table=_identifier(table),
                                       path=_quoted_path(f"{path}{table}.parquet")))
            cur.execute(_templated("lake/checkpoint_write_sequences", path=_quoted_path(path + SEQUENCES_FILE)))
            cur.register("checkpoint_commits", commits)
            try:
                cur.execute(_templated("lake/checkpoint_write_commits", path=_quoted_path(path + COMMITS_FILE)))
            finally:
                cur.unregister("checkpoint_commits")
    finally:
        cur.close()
    ensure_manifest(lake)
    counts = {c: n for c, _p, n in lake.commits()}
    params = {"checkpoint_id": checkpoint_id, "group_id": lake.group_id, "pipeline": lake.member, "now": utc_now(),
              "path": path, "schema_hash": schema_hash(), "settings_hash": settings_hash(settings),
              "commits": len(applied), "messages": sum(counts.get(c, 0) for c in applied)}
    lake.commit_owned((), lambda lake_con: Statements(lake_con, prepare=False).run("lake/insert_checkpoint", params))
    log.info("checkpoint %s written: %d tables, %d lake commits, at %s", checkpoint_id, len(tables), len(applied), path)
    remove_superseded(lake)
    return Checkpoint(checkpoint_id, path, len(applied))


def remove_superseded(lake: LakeLog, keep: int = KEEP) -> list[str]:
    """Remove the group's checkpoints older than its ``keep`` newest: their manifest rows, then (in a local
    directory) their files; the ids removed."""
    old = lake.read(lambda con: Statements(con, prepare=False).rows(
        "lake/superseded_checkpoints", {"group_id": lake.group_id, "keep": keep}))
    if not old:
        return []
    ids = [str(i) for i, _p in old]
    lake.commit_owned((), lambda con: Statements(con, prepare=False).run(
        "lake/delete_checkpoints", {"group_id": lake.group_id, "ids": ids}))
    for _id, path in old:
        if _is_local(str(path)):
            shutil.rmtree(str(path), ignore_errors=True)
        else:
            log.info("checkpoint %s at %s left to the bucket's lifecycle rule (DuckDB deletes no objects)", _id, path)
    return ids


def candidates(lake: LakeLog, settings: Settings) -> list[Checkpoint]:
    """The group's complete checkpoints of this schema and these settings, newest first."""
    if not has_manifest(lake):
        return []
    rows = lake.read(lambda con: Statements(con, prepare=False).rows("lake/checkpoints", {
        "group_id": lake.group_id, "schema_hash": schema_hash(), "settings_hash": settings_hash(settings)}))
    return [Checkpoint(str(i), str(p), int(n)) for i, p, _at, n in rows]


def load_checkpoint(con: duckdb.DuckDBPyConnection, settings: Settings, checkpoint: Checkpoint) -> set[str]:
    """Fill the empty working store ``con`` from ``checkpoint`` in one transaction (nothing of it stays when it
    fails); the lake commits it holds."""
    reach_data_path(con, settings, "checkpoint")
    path = checkpoint.path
    run = Statements(con, prepare=False)
    with transaction(con):
        applied = {str(c) for (c,) in run.rows("lake/checkpoint_read_commits", {"path": path + COMMITS_FILE})}
        for (table,) in run.rows("lake/checkpoint_tables"):
            con.execute(_templated("lake/checkpoint_read_table", table=_identifier(str(table))),
                        {"path": f"{path}{table}.parquet"})
        for sequence, last_value in run.rows("lake/checkpoint_read_sequences", {"path": path + SEQUENCES_FILE}):
            con.execute(_templated("lake/checkpoint_advance_sequence", sequence=_identifier(str(sequence))),
                        {"last_value": int(last_value)})
    return applied


def open_from_checkpoint(con: duckdb.DuckDBPyConnection, lake: LakeLog,
                         settings: Settings) -> tuple[Checkpoint, set[str]] | None:
    """Fill the empty working store ``con`` from the newest checkpoint that fits and can be read; it and the lake
    commits it holds (None: there is none, the caller replays the whole lake)."""
    for checkpoint in candidates(lake, settings)[:KEEP]:
        started = time.perf_counter()
        try:
            applied = load_checkpoint(con, settings, checkpoint)
        except (duckdb.Error, OSError) as exc:
            log.warning("cannot load checkpoint %s (%s): %s", checkpoint.checkpoint_id, checkpoint.path,
                        str(exc).splitlines()[0])
            continue
        log.info("working store loaded from checkpoint %s (%d lake commits) in %.1f s", checkpoint.checkpoint_id,
                 len(applied), time.perf_counter() - started)
        return checkpoint, applied
    return None


@dataclass
class Checkpointer:
    """When a lake pipeline writes a checkpoint: while it is the leader, every ``interval_s`` (0: never)."""

    settings: Settings
    interval_s: float
    written: list[Checkpoint] = field(default_factory=list)  # tests read it
    was_leader: bool = False
    _last: float = field(default_factory=time.monotonic)

    def note_leadership(self, con: duckdb.DuckDBPyConnection) -> bool:
        """Whether this pipeline leads now (its working store's partitions, ``con``); remembered in was_leader."""
        with con.cursor() as cur:
            self.was_leader = bool(Statements(cur).value(
                "lake/is_leader", {"customers_topic": self.settings.kafka.topics.customers}))
        return self.was_leader

    def due(self, con: duckdb.DuckDBPyConnection) -> bool:
        if self.interval_s <= 0:
            return False
        return self.note_leadership(con) and time.monotonic() - self._last >= self.interval_s

    def write(self, con: duckdb.DuckDBPyConnection, lake: LakeLog, applied: Collection[str]) -> Checkpoint | None:
        """A checkpoint now; a failure is logged (the next interval tries again), never raised."""
        self._last = time.monotonic()
        try:
            checkpoint = write_checkpoint(con, lake, self.settings, applied)
        except (duckdb.Error, OSError, RuntimeError) as exc:
            log.warning("checkpoint not written (the next one is tried in %.0f s): %s", self.interval_s,
                        str(exc).splitlines()[0])
            return None
        self.written.append(checkpoint)
        return checkpoint
