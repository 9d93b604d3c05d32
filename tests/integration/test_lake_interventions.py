"""store = "ducklake", real engines (PostgreSQL, the embedded broker): interventions are recorded in the lake.

`intervene` and the dashboard's form check an intervention as on the file store (against a reader's copy of
the lake) and record it in the lake; every reader's copy and every running pipeline's working store take it,
so the next step moves on everywhere."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from customer_health import composition
from customer_health.clock import utc_now
from customer_health.composition import open_lake_copy
from customer_health.config import Settings, load_settings
from customer_health.db import attach_lake, open_working_store
from customer_health.errors import UserError
from customer_health.health.interventions import record_intervention
from customer_health.health.lake import PipelineInterventions
from customer_health.vocabulary import STEPS
from dashboard import actions, queries
from dashboard.source import DataSource
from ingest.lake import lake_tables
from ingest.service import run_pipeline
from tests.conftest import Env, produce, wait_until
from tests.integration.test_dashboard_pages import no_failures, page_test, table, texts
from tests.integration.test_lake_dashboard_source import commit_customers, lake_settings, pipeline_a_log
from tests.integration.test_lake_pipelines import cli, lake_config, lake_messages, simulated_events

NOTE = "called them about the invoice"


def lake_interventions(settings: Settings) -> list[tuple[int, str, str, str]]:
    """(id, customer, step, recorded_by) of every intervention in the lake (none: no table yet)."""
    con = duckdb.connect()
    attach_lake(con, settings)
    try:
        if "intervention_log" not in lake_tables(con):
            return []
        return [(int(i), str(c), str(s), str(b)) for i, c, s, b in con.execute(
            "select intervention_id, customer_id, step, recorded_by from lake.intervention_log "
            "order by intervention_id").fetchall()]
    finally:
        con.close()


def test_the_dashboard_and_intervene_record_in_the_lake_checked_as_on_the_file_and_every_copy_takes_them(
    lake_catalog: str, tmp_path: Path,
) -> None:
    settings = lake_settings(lake_catalog, tmp_path)
    log = pipeline_a_log(settings)
    commit_customers(log, 0, 3, 0)

    # A working store as a lake pipeline holds it, before anything was recorded: nothing to take.
    store = open_working_store(settings)
    taker = PipelineInterventions(store, settings)
    taker.attach(log)
    assert taker.taken == 0

    source = DataSource(settings)
    try:
        assert source.read(lambda db: queries.customer_interventions(db, "c0")).empty
        # The same checks as on the file store, nothing recorded when one fails.
        for step, customer, note, match in ((STEPS[0], "nobody", NOTE, "no customer 'nobody'"),
                                            (STEPS[0], "c0", "ok", "the note must say what was done"),
                                            ("phone", "c0", NOTE, "unknown step 'phone'")):
            with pytest.raises(actions.ActionError, match=match):
                actions.record(source, customer, step, note, "ana")
        with pytest.raises(UserError, match="in the future"):
            record_intervention(settings, "c1", STEPS[0], NOTE, "ana", tried_at=utc_now() + timedelta(days=2))
        with pytest.raises(UserError, match="who recorded it"):
            record_intervention(settings, "c1", STEPS[0], NOTE, " ")
        assert lake_interventions(settings) == []

        # The dashboard's form: in the lake, and in the dashboard's own copy at once (no refresh needed).
        actions.record(source, "c0", STEPS[0], NOTE, "ana")
        shown = source.read(lambda db: queries.customer_interventions(db, "c0"))
        assert list(shown["step"]) == [STEPS[0]] and list(shown["recorded_by"]) == ["ana"]
        # intervene without a copy of its own: one opened for the moment.
        done = record_intervention(settings, "c1", STEPS[1], NOTE, "bo")
        recorded = lake_interventions(settings)
        assert [(c, s, b) for _i, c, s, b in recorded] == [("c0", STEPS[0], "ana"), ("c1", STEPS[1], "bo")]
        assert done.intervention_id == recorded[1][0] and len({i for i, *_ in recorded}) == 2

        # The dashboard's copy takes the other writer's on its refresh, once each.
        time.sleep(0.6)
        assert list(source.read(lambda db: queries.customer_interventions(db, "c1"))["step"]) == [STEPS[1]]
        assert len(source.read(lambda db: queries.customer_interventions(db, "c0"))) == 1
        # A new reader's copy, and the working store on its next take.
        reader = open_lake_copy(settings)
        try:
            assert dict(reader.con.execute("select customer_id, list(step) from interventions group by all")
                        .fetchall()) == {"c0": [STEPS[0]], "c1": [STEPS[1]]}
        finally:
            reader.close()
        assert taker.take() == 2 and taker.take() == 0
        tried = dict(store.execute("select customer_id, list(step) from interventions group by all").fetchall())
        assert tried == {"c0": [STEPS[0]], "c1": [STEPS[1]]}
    finally:
        source.close()
        store.close()
        log.con.close()


def test_intervene_on_a_lake_is_shown_by_readers_and_taken_by_a_running_pipeline(env: Env, lake_catalog: str) -> None:
    env.create_topics()
    messages = simulated_events(env.tmp, customers=20, seed=3)
    config = lake_config(env, lake_catalog)
    settings = load_settings(config, env={})
    produce(env, messages)
    stores: list[duckdb.DuckDBPyConnection] = []

    def extensions(con: duckdb.DuckDBPyConnection, s: Settings) -> Any:
        stores.append(con)
        return composition.pipeline_extensions(con, s)

    stop = threading.Event()
    pipeline = threading.Thread(target=run_pipeline, args=(settings, stop), kwargs={
        "extensions": extensions, "finish_history": composition.finish_load, "install_signal_handlers": False})
    pipeline.start()
    try:
        wait_until(lambda: len(lake_messages(config)) == len(messages), timeout=240,
                   message="every message committed to the lake")
        listed = cli(config, "customers", "--json")
        assert listed.returncode == 0, listed.stderr
        customer = next(r["customer_id"] for r in json.loads(listed.stdout) if r["next_step"] in STEPS)

        def pipeline_sees() -> dict[str, Any]:
            cur = stores[0].cursor()
            try:
                row = cur.execute("select next_step, [t.step for t in interventions_tried] from customer_health "
                                  "where customer_id = ?", [customer]).fetchone()
            finally:
                cur.close()
            assert row is not None
            return {"next_step": row[0], "tried": row[1]}

        before = cli(config, "customer", customer, "--json")
        assert before.returncode == 0, before.stderr
        step = json.loads(before.stdout)["next_step"]
        assert pipeline_sees() == {"next_step": step, "tried": []}

        result = cli(config, "intervene", customer, step, "--note", NOTE, "--by", "ana", "--json")
        assert result.returncode == 0, result.stderr
        recorded = json.loads(result.stdout)
        assert recorded["intervention"]["step"] == step and recorded["intervention"]["customer_id"] == customer
        assert recorded["next_step"] != step  # the step tried: the playbook moves on

        shown = json.loads(cli(config, "customer", customer, "--json").stdout)
        assert [t["step"] for t in shown["interventions_tried"]] == [step]
        assert shown["next_step"] == recorded["next_step"]
        # The running pipeline's working store takes it (every ducklake.sync_interval_s): the same next step.
        assert wait_until(lambda: pipeline_sees()["tried"] == [step], timeout=60,
                          message="the pipeline's store to take the intervention")
        assert pipeline_sees()["next_step"] == recorded["next_step"]

        refused = cli(config, "intervene", customer, step, "--note", "ok", "--by", "ana")
        assert refused.returncode != 0 and "the note must say" in refused.stderr
        assert [s for _i, _c, s, _b in lake_interventions(settings)] == [step]
    finally:
        stop.set()
        pipeline.join(120)
    assert not pipeline.is_alive()


def test_the_customer_pages_form_records_in_the_lake_and_shows_it(lake_catalog: str, tmp_path: Path) -> None:
    """The dashboard's page (Streamlit's AppTest) on a lake: the intervention form records in the lake."""
    config = tmp_path / "lake.toml"
    config.write_text(
        f'db_path = "{tmp_path / "unused.duckdb"}"\nstore = "ducklake"\n'
        f'[ducklake]\ncatalog = "{lake_catalog}"\ndata_path = "{tmp_path / "lake"}/"\n'
        "[dashboard]\nrefresh_seconds = 0.5\n[quality]\nbatch_suites = false\n", encoding="utf-8")
    settings = load_settings(config, env={})
    log = pipeline_a_log(settings)
    try:
        commit_customers(log, 0, 2, 0)
    finally:
        log.con.close()
    at = page_test(config, "customer.py", {"customer": "c1"})
    no_failures(at)
    at.selectbox(key="cust_step").set_value("educate")
    at.text_area(key="cust_note").input("Walked them through the setup guide")
    at.text_input(key="cust_recorded_by").input("Sam Support")
    at.form_submit_button[0].click().run()
    no_failures(at)
    assert "Recorded “educate” for c1 by Sam Support." in texts(at)
    assert table(at, "recorded_at", "step", "recorded_by")["recorded_by"].tolist() == ["Sam Support"]
    assert [(c, s, b) for _i, c, s, b in lake_interventions(settings)] == [("c1", "educate", "Sam Support")]
    assert not settings.db_path.exists(), "the form wrote no local DuckDB file"
