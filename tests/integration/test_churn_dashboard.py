"""Silent churn on the dashboard (AppTest, on the dashboard tests' seeded database): P(alive) next to the
health score on the live and customer pages, expected 90-day value at risk by segment on the portfolio page."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import streamlit as st

from customer_health import sqlfiles
from customer_health.commands.churn import _rescore
from customer_health.db import open_owner
from tests.integration.test_dashboard_pages import no_failures, page_test, table, texts, watchlist
from tests.integration.test_dashboard_seed import SeededDb, build_seeded_db


def store_fit_and_rescore(seeded: SeededDb) -> None:
    """A converged fit (the CDNOW estimates; five customers do not identify the model), then what
    `churn-model fit` does without a pipeline: rescore churn and health as of now."""
    con = open_owner(seeded.settings)
    try:
        now = datetime.now(UTC).replace(tzinfo=None)
        sqlfiles.Statements(con).run("churn/insert_fit", {
            "fitted_at": now, "as_of": now, "window_start": now.date(), "window_end": now.date(), "r": 0.243,
            "alpha": 4.414, "a": 0.793, "b": 2.426, "log_likelihood": -1.0, "customers": 5, "converged": True,
            "message": "converged", "trigger": "manual", "duration_ms": 1.0})
        _rescore(con, seeded.settings, now)
    finally:
        con.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededDb]:
    argv = sys.argv
    yield build_seeded_db(tmp_path_factory.mktemp("churn-dash"), with_quality=False)
    sys.argv = argv


def test_pages_before_and_after_the_churn_model_is_fitted(seeded: SeededDb) -> None:
    # Before any fit: no P(alive) anywhere, and the portfolio says why there is no value at risk yet.
    at = page_test(seeded.config_path, "portfolio.py")
    no_failures(at)
    assert "No customer has a silent-churn score yet" in texts(at)
    at = page_test(seeded.config_path)
    no_failures(at)
    assert watchlist(at)["p_alive"].isna().all()

    store_fit_and_rescore(seeded)
    st.cache_data.clear()  # the pages cache reads for a few seconds; this process just saw the empty ones
    with open_owner(seeded.settings) as con:
        churn = dict(con.execute("select customer_id, p_alive from customer_churn").fetchall())
        value = con.execute(
            "select segment, sum(c.expected_value_90d), sum(c.value_at_risk_90d) from customer_health h "
            "join customer_churn c using (customer_id) where segment <> 'churned' group by segment").fetchall()
    assert set(churn) == {"c-champ", "c-drain", "c-angry", "c-fading", "c-gone"}

    # Live: P(alive) next to the health score in the customer table and on the search card.
    at = page_test(seeded.config_path)
    no_failures(at)
    customers = watchlist(at)
    columns = list(customers.columns)
    assert columns.index("p_alive") == columns.index("health_score") + 1
    for row in customers.itertuples():  # the model's, but 0 for a cancelled customer (c-gone)
        expected = 0.0 if row.segment == "churned" else churn[row.customer_id]
        assert row.p_alive == pytest.approx(expected, rel=1e-9)
    assert "churned" in set(customers["segment"])
    at.text_input(key="live_search").input("fading").run()
    no_failures(at)
    assert f"P(alive) **{churn['c-fading']:.2f}**" in texts(at)

    # Customer: a P(alive) metric next to Health, the expected figures in its help.
    at = page_test(seeded.config_path, "customer.py", {"customer": "c-champ"})
    no_failures(at)
    metrics = list(at.metric)
    labels = [m.label for m in metrics]
    assert labels.index("P(alive)") == labels.index("Health") + 1
    p_alive = metrics[labels.index("P(alive)")]
    assert p_alive.value == f"{churn['c-champ']:.2f}"
    assert "Expected purchases" in p_alive.proto.help and "at risk of silent churn" in p_alive.proto.help

    # Portfolio: expected 90-day value and value at risk per segment, summing customer_churn.
    at = page_test(seeded.config_path, "portfolio.py")
    no_failures(at)
    assert "Expected 90-day value at risk, by segment" in [s.value for s in at.subheader]
    risk = table(at, "segment", "expected_value_90d", "value_at_risk_90d").set_index("segment")
    assert "churned" not in risk.index
    for segment, expected_value, at_risk in value:
        assert risk.loc[segment, "expected_value_90d"] == pytest.approx(expected_value)
        assert risk.loc[segment, "value_at_risk_90d"] == pytest.approx(at_risk)
