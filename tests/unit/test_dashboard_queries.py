"""The dashboard's query layer: typed functions over named statements, no streamlit, clear 'not there yet'."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from customer_health.config import HealthSettings, Settings
from customer_health.db import open_owner, reader
from customer_health.sqlfiles import SQL_ROOT
from dashboard import queries

NOW = datetime(2026, 11, 25, 12, 0, 0)

# Arguments after the reader for every query function; a new function without an entry fails the test below.
ARGS: dict[str, tuple[Any, ...]] = {
    "model_now": (NOW,),
    "pipeline_overview": (NOW,),
    "freshness": (NOW, NOW, {"tickets": "t", "payments": "p", "visits": "v", "customers": "c"}),
    "topic_offsets": ("group",),
    "consumer_lag": (),
    "ingest_batches": (10,),
    "ingest_throughput": (NOW - timedelta(hours=1),),
    "dead_letter_reasons": (),
    "dead_letters": ("invalid_json", "tickets", 10),
    "quality_over_time": (NOW - timedelta(days=1),),
    "quality_latest": (),
    "quality_batch_failures": (NOW - timedelta(days=1), 10),
    "quarantine_summary": (10,),
    "flap_rate": (NOW,),
    "alerts": ("critical", 10),
    "undelivered_alerts": (10,),
    "kpis": (NOW, "b2b", "basic", "terrorist"),
    "watchlist": (NOW, "b2c", "basic", "healthy", "o'brien", 10),
    "drifting": (NOW, None, None, "at_risk", "x", 10),
    "customer_cards": ("o'brien", "b2c", "basic", "healthy", 4),
    "support_minutes": (None, "basic", "unprofitable", 10),
    "segment_changes": (NOW - timedelta(days=1), "b2b", None, "terrorist", 10),
    "plans": (),
    "segment_mix": ("b2b", None),
    "segment_mix_over_time": (NOW - timedelta(days=30), None, "basic"),
    "segment_flows": (NOW - timedelta(days=30), "b2c", None),
    "value_at_risk_by_segment": ("b2c", "basic"),
    "whale_curve": (None, None, 100),
    "portfolio_summary": (None, None),
    "revenue_vs_cost": ("b2b", "basic", 100),
    "customer_search": ("c-1", 10),
    "customer": ("c-1",),
    "customer_snapshots": ("c-1", NOW - timedelta(days=90)),
    "customer_segment_changes": ("c-1",),
    "customer_timeline": ("c-1", NOW - timedelta(days=90), 10),
    "household": ("h-1",),
    "customer_interventions": ("c-1",),
    "model_quality": (HealthSettings(), 60),
}


def _query_functions() -> list[str]:
    return sorted(
        name for name, fn in inspect.getmembers(queries, inspect.isfunction)
        if fn.__module__ == queries.__name__ and not name.startswith("_") and name != "since"
    )


def test_the_query_layer_never_imports_streamlit() -> None:
    code = ("import sys, dashboard.queries, dashboard.source, dashboard.actions; "
            "sys.exit(1 if 'streamlit' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_every_query_function_is_typed_and_covered() -> None:
    for name in _query_functions():
        fn = getattr(queries, name)
        assert inspect.signature(fn).return_annotation in ("pd.DataFrame", pd.DataFrame), name
        assert name in ARGS, f"add sample arguments for queries.{name} to ARGS"


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A database with the whole current schema (every layer in sql/) and no rows."""
    settings = Settings(db_path=tmp_path_factory.mktemp("dash-q") / "h.duckdb")
    open_owner(settings).close()
    return settings


@pytest.mark.parametrize("name", sorted(ARGS))
def test_every_query_runs_on_the_current_schema(empty_db: Settings, name: str) -> None:
    """Each statement binds against the tables as the other parts of the product create them."""
    with reader(empty_db) as db:
        result = getattr(queries, name)(db, *ARGS[name])
    assert isinstance(result, pd.DataFrame)


def test_since_names_periods() -> None:
    assert queries.since(NOW, "24h") == NOW - timedelta(hours=24)
    assert queries.since(NOW, "90d") == NOW - timedelta(days=90)


def test_statements_live_in_files() -> None:
    """Python holds no SQL: the query layer only names statements under sql/statements/."""
    source = Path(queries.__file__).read_text(encoding="utf-8")
    assert not re.search(r"\bselect\b[^\n]*\bfrom\b", source, re.IGNORECASE)
    for name in re.findall(r'"((?:dashboard|status)/\w+)"', source):
        assert (SQL_ROOT / "statements" / f"{name}.sql").is_file(), name


def test_a_customer_without_history_points_has_an_empty_score_trend() -> None:
    frame = pd.DataFrame({"score_trend": pd.Series([[50.0, None, 52.5], None, pd.NA, float("nan")], dtype=object)})
    assert queries._with_float_lists(frame, "score_trend")["score_trend"].tolist() == [[50.0, 52.5], [], [], []]


def test_freshness_measures_landing_on_the_wall_clock_and_event_age_on_the_models(tmp_path: Path) -> None:
    """With [clock] source = "events" the events run ahead of the wall clock: the newest event's age is measured on
    the model's clock (it read -11,394 minutes in the demo), the time since landed on the wall clock."""
    settings = Settings(db_path=tmp_path / "h.duckdb")
    con = open_owner(settings)
    ahead = NOW + timedelta(days=8)
    con.execute("insert into ingest_batches (batch_id, source, started_at, committed_at, messages, landed, "
                "duplicates, dead_lettered) values (1, 'kafka', ?, ?, 1, 1, 0, 0)", [NOW, NOW])
    con.execute("insert into visits values ('v1', 'c1', ?, 's1', 'web', 30.0, null, null, 1)", [ahead])
    con.close()
    with reader(settings) as db:
        fresh = queries.freshness(db, NOW + timedelta(minutes=2), ahead + timedelta(minutes=5),
                                  {"tickets": "t", "payments": "p", "visits": "v", "customers": "c"})
    visits = fresh[fresh["event_type"] == "visits"].iloc[0]
    assert visits["seconds_since_landed"] == 120 and visits["newest_event_age_seconds"] == 300
