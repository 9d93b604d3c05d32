"""One definition of the segments, playbook steps and event types, read by the SQL and the Python alike."""

from __future__ import annotations

import typing
from pathlib import Path

from customer_health import config, vocabulary
from customer_health.config import Settings
from customer_health.db import open_owner


def test_the_database_and_the_python_read_the_same_lists(tmp_path: Path) -> None:
    con = open_owner(Settings(db_path=tmp_path / "v.duckdb"))
    try:
        segments, steps, event_types = con.execute("select segments(), playbook_steps(), event_types()").fetchone()
    finally:
        con.close()
    assert (tuple(segments), tuple(steps), tuple(event_types)) == (
        vocabulary.SEGMENTS, vocabulary.STEPS, vocabulary.EVENT_TYPES)
    assert vocabulary.SEGMENTS[0] == "champion" and vocabulary.NEXT_STEPS[-1] == "none"


def test_the_typed_event_types_of_the_settings_are_the_vocabulary() -> None:
    # A Literal type must be spelled out in the code: this holds it to the one definition.
    assert typing.get_args(config.EventType) == config.EVENT_TYPES == vocabulary.EVENT_TYPES
