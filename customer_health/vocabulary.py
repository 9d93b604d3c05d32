"""The closed lists the SQL and the Python share, read from their one definition in
``sql/10_reference/vocabulary.sql`` (the macros ``segments()``, ``playbook_steps()``, ``event_types()``)."""

from __future__ import annotations

import duckdb

from customer_health.sqlfiles import SQL_ROOT

VOCABULARY_SQL = SQL_ROOT / "10_reference" / "vocabulary.sql"


def _load() -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    with duckdb.connect() as con:
        con.execute(VOCABULARY_SQL.read_text(encoding="utf-8"))
        row = con.execute("select segments(), playbook_steps(), event_types()").fetchone()
    assert row is not None
    segments, steps, event_types = row
    return tuple(segments), tuple(steps), tuple(event_types)


SEGMENTS, STEPS, EVENT_TYPES = _load()
NEXT_STEPS: tuple[str, ...] = (*STEPS, "none")  # "none": nothing to do now
