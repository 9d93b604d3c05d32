"""store = "ducklake", real engines (PostgreSQL, the embedded broker): quality runs are recorded in the lake.

A pipeline's batch suites' runs (of the batches it landed) and its scheduled table suites' runs, and the runs
`check` stores, are appended to the lake; every reader's copy shows the group's runs (the data-quality page,
`check`), not runs of its own."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb

from customer_health.clock import utc_now
from customer_health.composition import LakeCopy, open_lake_copy
from customer_health.config import Settings, load_settings
from customer_health.db import attach_lake
from dashboard import queries
from dashboard.source import DataSource
from expectations import lake as lake_quality
from ingest.lake import lake_tables
from tests.conftest import Env, stop_process, wait_until
from tests.factories import customer, payment, visit
from tests.integration.test_lake_dashboard_source import commit_customers, lake_settings, pipeline_a_log
from tests.integration.test_lake_pipelines import cli, lake_config, start
from tests.integration.test_quality_pipeline import now_iso, produce


def lake_results(settings: Settings, where: str = "true") -> list[tuple[Any, ...]]:
    """(pipeline, scope, suite, expectation, success, run_at, trigger) of the lake's stored results."""
    con = duckdb.connect()
    attach_lake(con, settings)
    try:
        if "quality_result_log" not in lake_tables(con):
            return []
        return con.execute(
            "select r.pipeline, r.scope, r.suite, r.expectation, r.success, r.run_at, u.trigger "
            "from lake.quality_result_log r join lake.quality_run_log u using (group_id, pipeline, run_id) "
            f"where {where} order by all").fetchall()
    finally:
        con.close()


def test_a_pipelines_batch_failure_and_table_runs_are_shown_by_readers_of_the_lake(env: Env, lake_catalog: str) -> None:
    env.create_topics()
    config = lake_config(env, lake_catalog)
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("[pipeline]\n", "[pipeline]\nschedule_interval_s = 2.0\n"), encoding="utf-8")
    settings = load_settings(config, env={})
    good = []
    for i in range(10):
        cid = f"c{i % 5}"
        good += [("customers", customer(f"k{i}", cid, occurred_at=now_iso(30))),
                 ("payments", payment(f"p{i}", cid, occurred_at=now_iso(5))),
                 ("visits", visit(f"v{i}", cid, occurred_at=now_iso(5)))]
    suspect = [("payments", payment("huge", "c1", amount=7_500_000, occurred_at=now_iso(1)))]
    produce(env, good + suspect)
    pipeline = start(config, env.tmp / "lake.log")
    try:
        wait_until(lambda: lake_results(settings, "r.scope = 'batch' and not r.success")
                   and lake_results(settings, "r.scope = 'table'"), timeout=240,
                   message="the pipeline's batch failure and table runs recorded in the lake")
    finally:
        assert stop_process(pipeline) == 0, (env.tmp / "lake.log").read_text()[-3000:]

    failed = lake_results(settings, "r.scope = 'batch' and not r.success")
    assert {(suite, trigger) for _p, _s, suite, _e, _ok, _at, trigger in failed} == {("payments", "pipeline")}
    assert len({p for p, *_ in failed}) == 1  # one pipeline recorded it, once
    # The data-quality page's queries through the dashboard's source: the pipeline's runs, as it recorded them
    # (the copy's own validation of the lake's commits, at other times, is not what it shows).
    source = DataSource(settings)
    try:
        shown = source.read(lambda db: queries.quality_batch_failures(db, utc_now() - timedelta(days=1)))
        assert sorted(zip(shown["suite"], shown["expectation"], shown["run_at"], strict=True)) == \
            sorted((suite, expectation, at) for _p, _s, suite, expectation, _ok, at, _t in failed)
        latest = source.read(queries.quality_latest)
        assert not latest.empty
        table_runs = lake_results(settings, "r.scope = 'table'")
        assert set(latest["run_at"]) <= {at for *_rest, at, _t in table_runs}
    finally:
        source.close()


def reader_config(lake_catalog: str, tmp_path: Path) -> tuple[Settings, Path]:
    """A lake with 3 customers committed by pipeline-a, and the config of a reader of it."""
    settings = lake_settings(lake_catalog, tmp_path)
    log = pipeline_a_log(settings)
    try:
        commit_customers(log, 0, 3, 0)
    finally:
        log.con.close()
    config = tmp_path / "lake.toml"
    config.write_text(
        f'db_path = "{tmp_path / "unused.duckdb"}"\nstore = "ducklake"\n'
        f'[ducklake]\ncatalog = "{lake_catalog}"\ndata_path = "{tmp_path / "lake"}/"\n'
        "[quality]\nbatch_suites = false\ntable_runs_retention_days = 10\n", encoding="utf-8")
    return settings, config


def test_check_stores_its_runs_in_the_lake_and_a_second_reader_sees_them(lake_catalog: str, tmp_path: Path) -> None:
    settings, config = reader_config(lake_catalog, tmp_path)

    checked = cli(config, "check", "--suite", "customers", "--json")
    assert checked.returncode in (0, 1), checked.stderr
    document = json.loads(checked.stdout)
    assert [s["suite"] for s in document["suites"]] == ["customers"] and document["suites"][0]["run_id"]
    recorded = lake_results(settings)
    assert recorded and {(scope, suite, trigger) for _p, scope, suite, _e, _ok, _at, trigger in recorded} == \
        {("table", "customers", "check")}
    assert len(recorded) == len(document["suites"][0]["expectations"])

    # A second reader: its copy holds check's run, every expectation of it.
    reader = open_lake_copy(settings)
    try:
        runs = reader.con.execute("select suite, trigger, expectations from quality_runs").fetchall()
        assert runs == [("customers", "check", len(recorded))]
        latest = queries.quality_latest(reader)
        assert sorted(latest["expectation"]) == sorted(e for _p, _s, _su, e, _ok, _at, _t in recorded)
    finally:
        reader.close()

    # A copy holding the lake's runs already is not copied again; once the lake holds others, it is.
    copy = LakeCopy(settings)
    try:
        held = copy._quality
        copy.con.execute("delete from quality_results; delete from quality_runs")
        assert lake_quality.copy_into(copy.con, copy.lake.con, copy.lake.group_id, held) == held
        assert copy.con.execute("select count(*) from quality_runs").fetchone() == (0,)
        assert cli(config, "check", "--suite", "customers").returncode in (0, 1)
        copy.refresh()
        assert copy.con.execute("select count(*) from quality_runs").fetchone() == (2,)
    finally:
        copy.close()
    assert not load_settings(config, env={}).db_path.exists(), "check wrote no local DuckDB file"


def test_lake_maintain_prunes_the_runs_past_their_retention_and_keeps_the_others(
    lake_catalog: str, tmp_path: Path,
) -> None:
    settings, config = reader_config(lake_catalog, tmp_path)
    for _ in range(2):
        checked = cli(config, "check", "--suite", "customers", "--json")
        assert checked.returncode in (0, 1), checked.stderr
    con = duckdb.connect()
    attach_lake(con, settings)
    try:  # the first run 11 days old (retention: 10 days)
        first = con.execute("select pipeline from lake.quality_run_log order by run_at limit 1").fetchone()
        assert first is not None
        for table in ("quality_run_log", "quality_result_log"):
            con.execute(f"update lake.{table} set run_at = run_at - interval 11 day where pipeline = ?", [first[0]])
    finally:
        con.close()

    maintained = cli(config, "lake-maintain", "--json")
    assert maintained.returncode == 0, maintained.stderr
    assert json.loads(maintained.stdout)["steps"]["prune_quality_runs"] == 1
    kept = lake_results(settings)
    assert kept and first[0] not in {p for p, *_ in kept}
    reader = open_lake_copy(settings)
    try:
        assert reader.con.execute("select count(*) from quality_runs").fetchone() == (1,)
    finally:
        reader.close()
