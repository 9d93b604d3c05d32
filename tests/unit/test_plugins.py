"""The plug-ins run in the order their declared reads and writes give (ingest.plugins, customer_health.composition)."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from customer_health import composition
from customer_health.config import Settings
from customer_health.db import open_owner
from ingest.plugins import PipelineExtensions, Plugin, PluginOrderError, assemble, order_plugins

SETTINGS = Settings()


def plugin(name: str, reads: set[str], writes: set[str], calls: list[str] | None = None) -> Plugin:
    """A plug-in whose after_land hook appends its name to ``calls``."""

    def install(con: duckdb.DuckDBPyConnection, settings: Settings) -> PipelineExtensions:
        return PipelineExtensions(after_land=[lambda con, ctx: calls.append(name) if calls is not None else None])

    return Plugin(name, frozenset(reads), frozenset(writes), install)


def names(plugins: list[Plugin]) -> list[str]:
    return [p.name for p in plugins]


def test_each_plugin_runs_after_the_plugins_writing_what_it_reads_whatever_the_order_given() -> None:
    # Names sort against the data, so only the declarations can give this order.
    chain = [plugin("c_scores", {"payments"}, {"scores"}), plugin("b_health", {"scores"}, {"health"}),
             plugin("a_alerts", {"health", "scores"}, {"alerts"})]
    for given in itertools.permutations(chain):
        assert names(order_plugins(given)) == ["c_scores", "b_health", "a_alerts"]


def test_plugins_the_data_does_not_order_come_by_name() -> None:
    free = [plugin("b", {"payments"}, {"x"}), plugin("a", {"tickets"}, {"y"}), plugin("c", set(), {"z"})]
    for given in itertools.permutations(free):
        assert names(order_plugins(given)) == ["a", "b", "c"]


def test_the_assembled_hooks_run_in_plugin_order() -> None:
    calls: list[str] = []
    plugins = [plugin("late", {"early_out"}, set(), calls), plugin("early", set(), {"early_out"}, calls)]
    ext = assemble(plugins, None, SETTINGS)  # type: ignore[arg-type]  # these installs use no connection
    for hook in ext.after_land:
        hook(None, None)  # type: ignore[arg-type]
    assert calls == ["early", "late"]


def test_a_cycle_is_an_error_naming_the_tables_behind_it() -> None:
    plugins = [plugin("churn", {"health_state"}, {"customer_churn"}),
               plugin("health", {"customer_churn"}, {"health_state"}),
               plugin("alerts", {"health_state"}, {"alerts"})]
    with pytest.raises(PluginOrderError, match="cycle") as raised:
        order_plugins(plugins)
    message = str(raised.value)
    assert "churn reads health_state written by health" in message
    assert "health reads customer_churn written by churn" in message
    assert "alerts" not in message


def test_a_read_that_nothing_writes_is_an_error_naming_plugin_and_table() -> None:
    with pytest.raises(PluginOrderError, match="'health' reads 'customer_churn', which no plug-in writes"):
        order_plugins([plugin("health", {"customer_churn", "payments"}, {"health_state"})])


def test_reads_of_what_the_pipeline_or_the_plugin_itself_writes_need_no_producer() -> None:
    assert names(order_plugins([plugin("q", {"checked_payments", "quality_results"}, {"quality_results"})])) == ["q"]
    with pytest.raises(PluginOrderError, match="'q' reads 'checked_payments'"):
        order_plugins([plugin("q", {"checked_payments"}, set())], provided=())


def test_two_plugins_of_one_name_are_an_error() -> None:
    with pytest.raises(PluginOrderError, match="two plug-ins are named 'a'"):
        order_plugins([plugin("a", set(), {"x"}), plugin("a", set(), {"y"})])


@pytest.fixture
def owner(tmp_path: Path) -> Iterator[tuple[duckdb.DuckDBPyConnection, Settings]]:
    settings = Settings(db_path=tmp_path / "plugins.duckdb")
    con = open_owner(settings)
    yield con, settings
    con.close()


def hook_names(ext: PipelineExtensions) -> dict[str, list[str]]:
    """Each phase's hooks as ``Class.method`` (a callable object as its class)."""

    def name(hook: object) -> str:
        owner = getattr(hook, "__self__", None)
        return f"{type(owner).__name__}.{hook.__name__}" if owner is not None else type(hook).__name__  # type: ignore[attr-defined]

    return {phase: [name(h) for h in getattr(ext, phase)]
            for phase in ("before_land", "after_land", "on_landed", "on_tick", "on_stop")}


EXPECTED_HOOKS = {
    "before_land": ["BatchQualityHook"],  # quarantines rows before they land: later hooks see only rows that land
    "after_land": ["ChurnPipelineHooks.after_land", "HealthRefresher.after_land"],  # health reads the batch's p_alive
    "on_landed": [],
    "on_tick": ["ChurnPipelineHooks.on_tick", "QualityAndAlerts.on_tick"],
    "on_stop": ["ChurnPipelineHooks.stop", "QualityAndAlerts.stop"],
}


def test_the_product_plugins_run_in_data_order_whatever_their_order_and_names(
    owner: tuple[duckdb.DuckDBPyConnection, Settings],
) -> None:
    con, settings = owner
    assert names(order_plugins(composition.PLUGINS)) == ["churn", "health", "interventions", "quality", "alerts",
                                                      "quality-lake"]
    # Renamed so that names sort the other way round: the data alone orders churn, health and alerts.
    renamed = [dataclasses.replace(p, name=f"{9 - i}_{p.name}") for i, p in
               enumerate(order_plugins(composition.PLUGINS))]
    for given in [*itertools.permutations(composition.PLUGINS), *itertools.permutations(renamed)]:
        ext = assemble(given, con, settings)
        try:
            assert hook_names(ext) == EXPECTED_HOOKS
        finally:
            for stop in ext.on_stop:
                stop()


def test_ingest_and_load_assemble_the_same_plugins(owner: tuple[duckdb.DuckDBPyConnection, Settings]) -> None:
    con, settings = owner
    ext = composition.pipeline_extensions(con, settings)
    lander = composition.load_lander(con, settings)
    try:
        assert [type(h).__name__ for h in lander.before_land] == ["BatchQualityHook"]
        assert [f"{type(h.__self__).__name__}.{h.__name__}" for h in lander.after_land] == EXPECTED_HOOKS["after_land"]
        assert hook_names(ext) == EXPECTED_HOOKS
    finally:
        for stop in ext.on_stop:
            stop()
