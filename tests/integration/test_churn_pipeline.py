"""Silent churn live in the running pipeline (real broker, real DuckDB, Quack): the pipeline fits the model
as soon as charges have landed, scores every customer, keeps them scored batch by batch, and picks up a
fit asked for with `churn-model fit` over Quack; `customer ID --json` reads the figures while it runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from customer_health.db import reader
from customer_health.sqlfiles import sql_literal
from tests.conftest import Env, stop_process, wait_until
from tests.factories import customer, encode, payment

CUSTOMERS = 300

# The test's oracle: one customer's stored churn row, read server-side over Quack with plain SQL.
CHURN_ROW = """
-- One customer's silent-churn figures (no row: no transaction yet, or no fit yet).
select c.customer_id, c.as_of, c.p_alive, c.expected_tx_30d, c.expected_tx_90d, c.expected_value_90d,
    c.value_at_risk_90d, c.avg_charge, c.lifetime_value, c.frequency, c.recency_weeks, c.age_weeks, c.fit_id,
    c.scored_at
from customer_churn c
where c.customer_id = {customer_id}
"""


def history(now: datetime, rng: np.random.Generator) -> list[tuple[str, dict]]:
    """Profiles, then a year of succeeded charges drawn from the BG/NBD story (weekly-ish buyers who drop out)."""
    events: list[tuple[str, dict]] = []
    charges: list[tuple[str, dict]] = []
    for c in range(CUSTOMERS):
        cid = f"c{c}"
        events.append(("customers", customer(f"p-{cid}", cid, occurred_at=(now - timedelta(days=400)).isoformat(),
                                             signed_up_at=(now - timedelta(days=400)).isoformat())))
        rate, dropout = rng.gamma(0.9, 1 / 8.0), rng.beta(0.8, 2.4)
        week = rng.uniform(0, 20)
        n = 0
        while week < 52:
            charges.append(("payments", payment(f"pay-{cid}-{n}", cid, amount=20.0, occurred_at=(
                now - timedelta(weeks=52 - week)).isoformat())))
            n += 1
            if n > 1 and rng.random() < dropout:
                break
            week += rng.exponential(1 / max(rate, 1e-3))
    return events + charges


def produce(env: Env, events: list[tuple[str, dict]]) -> None:
    producer = env.producer()
    for event_type, event in events:
        producer.send(env.topics[event_type], key=event["customer_id"].encode(), value=encode(event))
    producer.flush(30)
    producer.close()


def fits(env: Env) -> list[dict]:
    result = env.cli("churn-model", "fits", "--json")
    return json.loads(result.stdout) if result.returncode == 0 else []


def churn_row(env: Env, customer_id: str) -> tuple | None:
    with reader(env.settings()) as db:
        sql = CHURN_ROW.format(customer_id=sql_literal(customer_id))
        if db.uri is None:
            return db.con.execute(sql).fetchone()
        return db.con.execute("select * from quack_query(?, ?)", [db.uri, sql]).fetchone()


def test_the_pipeline_fits_scores_and_follows_a_fit_asked_for_over_quack(env: Env) -> None:
    with env.config_path.open("a") as config:
        config.write("[churn]\ncheck_interval_s = 1.0\nrefit_growth = 0.01\n")
    env.create_topics()
    now = datetime.now(UTC).replace(microsecond=0)
    produce(env, history(now, np.random.default_rng(3)))
    proc = env.start_pipeline()
    try:
        # The first charges land: the schedule fits at its next tick (in the background), and again once the
        # customers with a purchase grew by more than churn.refit_growth, until the backlog is in.
        scheduled = wait_until(lambda: [f for f in fits(env) if f["trigger"] == "schedule"
                                        and f["customers"] == CUSTOMERS], timeout=120,
                               message="a scheduled fit on every customer")[0]
        assert scheduled["converged"], scheduled
        # The next batch scores everyone with it.
        produce(env, [("payments", payment("pay-c0-late", "c0", amount=20.0, occurred_at=now.isoformat()))])
        wait_until(lambda: (churn_row(env, "c0") or [None, None])[-2] == scheduled["fit_id"],
                   message="c0 scored with that fit")

        doc = json.loads(env.cli("customer", "c0", "--json").stdout)
        assert 0 <= doc["p_alive"] <= 1 and doc["expected_tx_30d"] <= doc["expected_tx_90d"]
        assert doc["expected_value_90d"] == pytest.approx(doc["expected_tx_90d"] * 20.0)  # every charge 20 EUR

        # A fit asked for while the pipeline runs is stored through Quack; the next batch rescores with it.
        asked = env.cli("churn-model", "fit", "--json")
        assert asked.returncode == 0, asked.stderr
        manual = json.loads(asked.stdout)
        assert manual["trigger"] == "manual" and manual["customers_scored"] is None
        assert manual["fit_id"] > scheduled["fit_id"] and manual["customers"] == CUSTOMERS
        produce(env, [("payments", payment("pay-c1-late", "c1", amount=20.0, occurred_at=now.isoformat()))])
        wait_until(lambda: (churn_row(env, "c2") or [None, None])[-2] == manual["fit_id"],
                   message="everyone rescored with the asked-for fit")
    finally:
        assert stop_process(proc) == 0, env.pipeline_log()
    assert "churn: fit #1" in env.pipeline_log()
