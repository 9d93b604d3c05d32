"""Silent churn in the product: transaction rollup, stored fits, per-customer scores, fading events, hooks."""

from __future__ import annotations

import csv
import json
import threading
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pytest

from customer_health import sqlfiles
from customer_health.churn import bgnbd, model
from customer_health.composition import pipeline_extensions
from customer_health.config import Settings, load_settings
from customer_health.db import open_owner
from customer_health.errors import UserError
from ingest.landing import BatchContext, Lander, batch_from_rows
from tests.factories import customer, payment

DATA = Path(__file__).resolve().parents[1] / "data"
CDNOW = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)


# --------------------------------------------------------------------------------------------------
# Helpers: a database of our own, batches landed through the real landing path


@pytest.fixture
def db(tmp_path: Path):
    settings = Settings(db_path=tmp_path / "churn.duckdb")
    con = open_owner(settings)
    yield con, settings
    con.close()


def charge(event_id: str, customer_id: str, at: str, amount: float = 10.0, currency: str = "EUR", **over) -> dict:
    return payment(event_id, customer_id, occurred_at=at, amount=amount, currency=currency, **over)


def land(con: duckdb.DuckDBPyConnection, events: list[dict], source: str = "kafka") -> int:
    """Land payment events as one batch (no hooks); returns the batch id."""
    lander = Lander(con, group_id="test", max_message_bytes=65536)
    rows = [("payments", "test", i, json.dumps(e).encode()) for i, e in enumerate(events, 1)]
    result = lander.land(batch_from_rows(rows), source)
    assert result.dead_lettered == 0
    return result.batch_id


def land_and_roll_up(con, settings, events: list[dict]) -> int:
    batch_id = land(con, events)
    model.rollup_batch(con, settings, batch_id)
    return batch_id


def store_fit(con, params: bgnbd.BgNbdParams, as_of: datetime, converged: bool = True) -> int:
    return int(sqlfiles.Statements(con).run("churn/insert_fit", {
        "fitted_at": datetime(2026, 6, 1), "as_of": as_of, "window_start": date(2026, 1, 1),
        "window_end": as_of.date(), "r": params.r, "alpha": params.alpha, "a": params.a, "b": params.b,
        "log_likelihood": -1.0, "customers": 1, "converged": converged, "message": "test", "trigger": "manual",
        "duration_ms": 1.0,
    }).fetchone()[0])


def churn_rows(con) -> dict[str, dict]:
    cur = con.execute("select * from customer_churn order by customer_id")
    names = [d[0] for d in cur.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cur.fetchall()}


def run(con) -> sqlfiles.Statements:
    return sqlfiles.Statements(con)


# --------------------------------------------------------------------------------------------------
# Transactions: succeeded charges, one per customer and UTC day, in the reporting currency


def test_summary_counts_one_transaction_per_utc_day_of_succeeded_charges(db):
    con, settings = db
    land_and_roll_up(con, settings, [
        charge("p1", "c1", "2026-01-01T10:00:00Z", 10),
        charge("p2", "c1", "2026-01-01T23:30:00Z", 5),            # same UTC day: one transaction of 15
        charge("p3", "c1", "2026-01-08T00:30:00+02:00", 10.8, "USD"),  # 2026-01-07 22:30 UTC; 10.8 USD = 10 EUR
        charge("p4", "c1", "2026-01-15T12:00:00Z", 99, status="failed"),
        charge("p5", "c1", "2026-01-16T12:00:00Z", 99, kind="refund"),
        charge("p6", "c1", "2026-01-21T12:00:00Z", 7, "AUD"),     # no exchange rate: counted, not priced
        charge("p7", "c1", "2026-02-20T12:00:00Z", 50),           # after as_of: outside the window
        charge("p8", "c2", "2026-01-28T12:00:00Z", 20),
    ])
    s = model.load_summaries(run(con), datetime(2026, 1, 29, 8, 0))
    assert list(s.customer_id) == ["c1", "c2"]
    # c1: days 01-01, 01-07, 01-21 -> x = 2, t_x = 20 days, T = 28 days (to as_of's UTC day)
    assert s.frequency.tolist() == [2.0, 0.0]
    np.testing.assert_allclose(s.recency_weeks, [20 / 7, 0.0])
    np.testing.assert_allclose(s.age_weeks, [28 / 7, 1 / 7])
    assert s.transactions.tolist() == [3, 1]
    np.testing.assert_allclose(s.avg_charge, [(15 + 10) / 2, 20.0])  # the unpriced day is left out
    np.testing.assert_allclose(s.lifetime_value, [25.0, 20.0])
    assert list(s.first_day) == [date(2026, 1, 1), date(2026, 1, 28)]


def test_rollup_batch_by_batch_equals_a_rebuild_from_payments(db):
    con, settings = db
    rng = np.random.default_rng(7)
    events = [charge(f"p{i}", f"c{rng.integers(0, 40)}",
                     (datetime(2026, 1, 1, 12) + timedelta(hours=int(rng.integers(0, 24 * 120)))).isoformat() + "Z",
                     float(rng.integers(1, 100)), str(rng.choice(["EUR", "USD", "GBP", "AUD"])),
                     status=str(rng.choice(["succeeded", "succeeded", "failed"])))
              for i in range(600)]
    for chunk in np.array_split(np.array(events, dtype=object), 5):  # out of order across batches too
        land_and_roll_up(con, settings, list(chunk))
    query = "select customer_id, day, coalesce(amount, 'nan'::double) from churn_days order by customer_id, day"
    rolled = con.execute(query).fetchall()
    model.rebuild_transactions(con, settings)
    rebuilt = con.execute(query).fetchall()
    assert len(rolled) == len(rebuilt) > 300
    assert [r[:2] for r in rolled] == [r[:2] for r in rebuilt]
    np.testing.assert_allclose([r[2] for r in rolled], [r[2] for r in rebuilt])


def test_missing_rollup_is_rebuilt_from_landed_payments(db):
    con, settings = db
    land(con, [charge("p1", "c1", "2026-01-01T12:00:00Z"), charge("p2", "c1", "2026-01-09T12:00:00Z")])
    assert model.ensure_transactions(con, settings) is True
    assert model.ensure_transactions(con, settings) is False
    s = model.load_summaries(run(con), datetime(2026, 2, 1))
    assert s.frequency.tolist() == [1.0]


def test_summaries_of_landed_cdnow_charges_equal_the_core_summary(db):
    con, settings = db
    with open(DATA / "cdnow_sample_transactions.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    events = [charge(f"p{i}", r["customer_id"], f"{r['date']}T12:00:00Z", max(float(r["amount"]), 0.01), "USD")
              for i, r in enumerate(rows)]
    land_and_roll_up(con, settings, events)
    s = model.load_summaries(run(con), datetime(1997, 9, 30))
    ids, x, t_x, T = bgnbd.summarise_transactions([r["customer_id"] for r in rows], [r["date"] for r in rows],
                                                  "1997-09-30")
    assert len(s) == len(ids) == 2357
    order = np.argsort(s.customer_id.astype(str))
    assert list(s.customer_id[order]) == list(ids)
    np.testing.assert_array_equal(s.frequency[order], x)
    np.testing.assert_allclose(s.recency_weeks[order], t_x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(s.age_weeks[order], T, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------------------------------
# Scores: the core's closed forms from the stored parameters


def test_sql_p_alive_matches_the_core(db):
    con, _ = db
    rng = np.random.default_rng(3)
    n = 400
    T = rng.uniform(0, 200, n)
    x = rng.integers(0, 300, n).astype(float)
    t_x = np.where(x > 0, T * rng.uniform(0.001, 1, n), 0.0)
    for params in (CDNOW, bgnbd.BgNbdParams(2.5, 0.3, 0.05, 9.0), bgnbd.BgNbdParams(0.01, 80.0, 3.0, 0.5)):
        got = np.array([row[0] for row in con.execute(
            "select churn_p_alive(x, t_x, t, $r, $alpha, $a, $b) from (select unnest($x) as x, unnest($t_x) as t_x, "
            "unnest($t) as t)", {"x": x.tolist(), "t_x": t_x.tolist(), "t": T.tolist(), "r": params.r,
                                 "alpha": params.alpha, "a": params.a, "b": params.b}).fetchall()])
        np.testing.assert_allclose(got, bgnbd.p_alive(params, x, t_x, T), rtol=1e-10, atol=1e-300)


def test_score_customers_stores_the_closed_forms_of_the_scoring_fit(db):
    con, settings = db
    land_and_roll_up(con, settings, [
        charge("a1", "a", "2026-01-01T12:00:00Z", 10), charge("a2", "a", "2026-01-15T12:00:00Z", 30),
        charge("a3", "a", "2026-02-12T12:00:00Z", 20),
        charge("b1", "b", "2026-03-01T12:00:00Z", 40),
    ])
    fit_id = store_fit(con, CDNOW, datetime(2026, 3, 1))
    as_of = datetime(2026, 4, 2, 9, 30)
    result = model.score_customers(con, settings, None, as_of)
    assert (result.customers, result.fit_id) == (2, fit_id)
    rows = churn_rows(con)
    a, b = rows["a"], rows["b"]
    # a: first 01-01, repeats 01-15 and 02-12, as_of day 04-02 -> x = 2, t_x = 6 weeks, T = 91 days
    assert (a["frequency"], a["recency_weeks"], a["age_weeks"]) == (2, 6.0, 13.0)
    x, t_x, T = np.array([2.0, 0.0]), np.array([6.0, 0.0]), np.array([13.0, 32 / 7])
    p = bgnbd.p_alive(CDNOW, x, t_x, T)
    e30 = bgnbd.expected_transactions(CDNOW, 30 / 7, x, t_x, T)
    e90 = bgnbd.expected_transactions(CDNOW, 90 / 7, x, t_x, T)
    np.testing.assert_allclose([a["p_alive"], b["p_alive"]], p, rtol=1e-12)
    np.testing.assert_allclose([a["expected_tx_30d"], b["expected_tx_30d"]], e30, rtol=1e-12)
    np.testing.assert_allclose([a["expected_tx_90d"], b["expected_tx_90d"]], e90, rtol=1e-12)
    assert a["avg_charge"] == pytest.approx(20.0) and b["avg_charge"] == pytest.approx(40.0)
    assert a["expected_value_90d"] == pytest.approx(e90[0] * 20.0)
    # value at risk: what the customer would bring while active, times P(not active)
    assert a["value_at_risk_90d"] == pytest.approx((1 - p[0]) * e90[0] / p[0] * 20.0)
    assert b["p_alive"] == 1.0 and b["value_at_risk_90d"] == 0.0  # no repeat yet: alive in BG/NBD
    assert a["lifetime_value"] == pytest.approx(60.0)
    assert a["as_of"] == as_of and a["fit_id"] == fit_id
    assert a["expected_tx_30d"] < a["expected_tx_90d"]


def test_scoring_waits_for_a_converged_fit_and_ignores_unconverged_ones(db):
    con, settings = db
    land_and_roll_up(con, settings, [charge("a1", "a", "2026-01-01T12:00:00Z"),
                                     charge("a2", "a", "2026-01-15T12:00:00Z")])
    assert model.score_customers(con, settings, None, datetime(2026, 3, 1)).fit_id is None
    assert churn_rows(con) == {}
    good = store_fit(con, CDNOW, datetime(2026, 2, 1))
    store_fit(con, bgnbd.BgNbdParams(1e8, 1e-8, 1, 1), datetime(2026, 3, 1), converged=False)
    assert model.score_customers(con, settings, None, datetime(2026, 3, 1)).fit_id == good
    # A fit of a past window (fit --as-of) does not replace the current model.
    store_fit(con, bgnbd.BgNbdParams(1, 1, 1, 1), datetime(2025, 6, 1))
    assert model.scoring_fit(run(con)).fit_id == good


def test_score_customers_updates_only_the_given_customers(db):
    con, settings = db
    land_and_roll_up(con, settings, [charge(f"{c}{i}", c, f"2026-01-{1 + 7 * i:02d}T12:00:00Z")
                                     for c in ("a", "b") for i in range(3)])
    store_fit(con, CDNOW, datetime(2026, 2, 1))
    model.score_customers(con, settings, None, datetime(2026, 2, 1))
    model.score_customers(con, settings, ["b"], datetime(2026, 5, 1))
    rows = churn_rows(con)
    assert rows["a"]["as_of"] == datetime(2026, 2, 1) and rows["b"]["as_of"] == datetime(2026, 5, 1)
    assert rows["b"]["p_alive"] < rows["a"]["p_alive"]  # three months of silence
    assert model.score_customers(con, settings, [], datetime(2026, 5, 1)).customers == 0
    # One row per customer (the table has no key: a scoring deletes its customers' rows and re-inserts them).
    assert con.execute("select count(*), count(distinct customer_id) from customer_churn").fetchone() == (2, 2)


def test_a_low_p_alive_of_a_customer_who_used_to_be_valuable_is_recorded_once_as_fading(db):
    con, settings = db
    settings = settings.with_overrides(churn__alert_p_alive_below=0.3, churn__valuable_min_transactions=4,
                                       churn__valuable_min_lifetime_value=100.0)
    weekly = [charge(f"v{i}", "valuable", f"2026-01-{1 + 7 * i:02d}T12:00:00Z", 50) for i in range(4)]
    cancelled = [charge(f"x{i}", "cancelled", f"2026-01-{1 + 7 * i:02d}T12:00:00Z", 50) for i in range(4)]
    small = [charge(f"s{i}", "small", f"2026-01-{1 + 7 * i:02d}T12:00:00Z", 5) for i in range(4)]
    few = [charge(f"f{i}", "few", f"2026-01-{1 + 7 * i:02d}T12:00:00Z", 500) for i in range(2)]
    land_and_roll_up(con, settings, weekly + small + few + cancelled)
    # "cancelled" said it is leaving: its silence is no news.
    lander = Lander(con, group_id="test", max_message_bytes=65536)
    lander.land(batch_from_rows([("customers", "t", 1, json.dumps(customer(
        "pc", "cancelled", occurred_at="2026-03-01T00:00:00Z", cancelled_at="2026-03-01T00:00:00Z")).encode())]),
        "kafka")
    store_fit(con, CDNOW, datetime(2026, 2, 1))
    first = model.score_customers(con, settings, None, datetime(2026, 1, 23))
    assert first.fading == 0  # first scores are the baseline, not news
    assert all(r["p_alive"] >= 0.3 for r in churn_rows(con).values())
    later = model.score_customers(con, settings, None, datetime(2026, 12, 1), batch_id=7)
    assert later.fading == 1
    rows = churn_rows(con)
    assert all(rows[c]["p_alive"] < 0.3 for c in ("valuable", "small", "few", "cancelled"))
    (event,) = con.execute("select customer_id, detected_at, previous_p_alive, p_alive, threshold, transactions, "
                           "lifetime_value, batch_id from churn_fading").fetchall()
    assert event[0] == "valuable" and event[1] == datetime(2026, 12, 1)
    assert event[2] >= 0.3 > event[3] and event[4] == 0.3 and event[5:] == (4, 200.0, 7)
    # Still below the threshold: not recorded again.
    assert model.score_customers(con, settings, None, datetime(2026, 12, 20)).fading == 0


# --------------------------------------------------------------------------------------------------
# Fits: stored every time; edge cases


def test_fit_model_stores_every_fit_with_its_window(db):
    con, settings = db
    rng = np.random.default_rng(11)
    events = []
    for c in range(300):
        first = int(rng.integers(0, 60))
        days = sorted({first, *[first + int(d) for d in rng.integers(1, 200, int(rng.integers(0, 6)))]})
        events += [charge(f"{c}-{d}", f"c{c}", (datetime(2025, 1, 1, 12) + timedelta(days=d)).isoformat() + "Z")
                   for d in days]
    land_and_roll_up(con, settings, events)
    fit = model.fit_model(run(con), datetime(2025, 9, 30, 18), trigger="manual", now=datetime(2026, 1, 1))
    again = model.fit_model(run(con), datetime(2025, 9, 30, 18), trigger="schedule")
    assert again.fit_id == fit.fit_id + 1
    stored = model.stored_fits(run(con))
    assert [f.fit_id for f in stored] == [again.fit_id, fit.fit_id]
    assert stored[1] == fit
    assert fit.window_end == date(2025, 9, 30) and fit.window_start >= date(2025, 1, 1)
    assert fit.customers == len(model.load_summaries(run(con), datetime(2025, 9, 30)))
    direct = bgnbd.fit(*[getattr(model.load_summaries(run(con), datetime(2025, 9, 30)), k)
                         for k in ("frequency", "recency_weeks", "age_weeks")])
    assert (fit.r, fit.alpha, fit.a, fit.b) == pytest.approx((direct.params.r, direct.params.alpha,
                                                              direct.params.a, direct.params.b))
    assert fit.log_likelihood == pytest.approx(direct.log_likelihood)


def test_an_empty_window_is_a_clear_error_and_stores_nothing(db):
    con, settings = db
    with pytest.raises(model.EmptyWindowError, match="calibration window is empty") as caught:
        model.fit_model(run(con), datetime(2026, 1, 1))
    assert isinstance(caught.value, UserError)
    land_and_roll_up(con, settings, [charge("p1", "c1", "2026-03-01T12:00:00Z")])
    with pytest.raises(model.EmptyWindowError, match="on or before 2026-02-28"):
        model.fit_model(run(con), datetime(2026, 2, 28, 23, 59))
    assert model.stored_fits(run(con)) == []


@pytest.mark.parametrize("days_by_customer", [
    {"only": [0, 10, 40]},                                       # a single-customer portfolio
    {f"c{i}": [0, 7, 21] for i in range(50)},                    # every customer identical
    {f"c{i}": [i] for i in range(50)},                           # nobody ever repeats
], ids=["single-customer", "identical", "no-repeat"])
def test_degenerate_portfolios_store_a_finite_fit_without_crashing(db, days_by_customer):
    con, settings = db
    land_and_roll_up(con, settings, [
        charge(f"{c}-{d}", c, (datetime(2026, 1, 1, 12) + timedelta(days=d)).isoformat() + "Z")
        for c, days in days_by_customer.items() for d in days])
    fit = model.fit_model(run(con), datetime(2026, 3, 1))
    assert all(np.isfinite([fit.r, fit.alpha, fit.a, fit.b, fit.log_likelihood]))
    assert fit.customers == len(days_by_customer)
    assert model.stored_fits(run(con))[0].fit_id == fit.fit_id
    result = model.score_customers(con, settings, None, datetime(2026, 3, 1))
    if fit.converged:
        assert result.customers == len(days_by_customer)
        assert all(0 <= r["p_alive"] <= 1 for r in churn_rows(con).values())
    else:  # not converged: stored and reported, but customers keep the previous (here: no) fit
        assert fit.message and result.fit_id is None


def test_a_customer_without_repeat_purchase_is_alive_and_expected_to_buy_a_little(db):
    con, settings = db
    land_and_roll_up(con, settings, [charge("p1", "once", "2026-01-01T12:00:00Z", 30)])
    store_fit(con, CDNOW, datetime(2026, 1, 1))
    model.score_customers(con, settings, None, datetime(2026, 7, 1))
    row = churn_rows(con)["once"]
    assert (row["frequency"], row["recency_weeks"], row["p_alive"]) == (0, 0.0, 1.0)
    assert 0 < row["expected_tx_30d"] < row["expected_tx_90d"] < 1
    assert row["expected_value_90d"] == pytest.approx(row["expected_tx_90d"] * 30)


# --------------------------------------------------------------------------------------------------
# The pipeline hooks


def after_land(hooks: model.ChurnPipelineHooks, con, events: list[dict], now: datetime) -> int:
    """Land a batch and run the churn hook in its transaction at ``now``, as the Lander does."""
    batch_id = land(con, events)
    con.execute("begin")
    scored = hooks.after_land(con, BatchContext(batch_id, now, "kafka", sqlfiles.Statements(con)))
    con.execute("commit")
    return scored


def test_after_land_scores_the_touched_customers_and_everyone_at_a_new_fit_or_day(db):
    con, settings = db
    hooks = model.ChurnPipelineHooks(con, settings)
    now = datetime(2026, 3, 1, 10)
    assert after_land(hooks, con, [charge("a1", "a", "2026-01-01T12:00:00Z"),
                                   charge("b1", "b", "2026-01-02T12:00:00Z")], now) == 0  # no fit yet
    store_fit(con, CDNOW, datetime(2026, 2, 1))
    assert after_land(hooks, con, [charge("a2", "a", "2026-02-01T12:00:00Z")], now) == 2  # new fit: everyone
    assert after_land(hooks, con, [charge("a3", "a", "2026-02-20T12:00:00Z")], now) == 1  # touched only
    rows = churn_rows(con)
    assert rows["a"]["frequency"] == 2 and rows["b"]["frequency"] == 0
    assert after_land(hooks, con, [charge("c1", "c", "2026-03-01T08:00:00Z")], now + timedelta(days=1)) == 3
    assert after_land(hooks, con, [], now + timedelta(days=1, hours=1)) == 0  # nothing touched
    store_fit(con, CDNOW, datetime(2026, 3, 2))
    assert after_land(hooks, con, [], now + timedelta(days=1, hours=2)) == 3  # the newer fit


def test_on_tick_refits_on_schedule_in_the_background(db):
    con, settings = db
    settings = settings.with_overrides(churn__refit_interval_hours=24.0)
    clock = [datetime(2026, 3, 1, 10)]
    hooks = model.ChurnPipelineHooks(con, settings, clock=lambda: clock[0])

    def tick() -> None:
        hooks._next_check = 0.0  # do not wait for the poll-loop throttle
        hooks.on_tick()
        if hooks._fit_thread is not None:
            hooks._fit_thread.join(30)

    tick()  # no charge yet: the window is empty, nothing stored, waits for data
    assert model.stored_fits(run(con)) == [] and hooks._waiting_for_data
    tick()
    assert model.stored_fits(run(con)) == []
    rng = np.random.default_rng(5)
    events = [charge(f"{c}-{d}", f"c{c}", (datetime(2026, 1, 1, 12) + timedelta(days=int(d))).isoformat() + "Z")
              for c in range(200) for d in {0, *rng.integers(1, 55, int(rng.integers(0, 5)))}]
    after_land(hooks, con, events, clock[0])
    assert not hooks._waiting_for_data
    tick()
    (first,) = model.stored_fits(run(con))
    assert first.trigger == "schedule" and first.as_of == clock[0] and first.customers == 200
    clock[0] += timedelta(hours=23)
    tick()
    assert len(model.stored_fits(run(con))) == 1  # not due yet
    clock[0] += timedelta(hours=2)
    tick()
    assert len(model.stored_fits(run(con))) == 2
    # Sooner when the customers with a purchase grew by more than churn.refit_growth (25%) since the last fit.
    after_land(hooks, con, [charge(f"new{c}", f"new{c}", "2026-02-20T12:00:00Z") for c in range(40)], clock[0])
    tick()
    assert len(model.stored_fits(run(con))) == 2  # 240 customers: 20% more
    after_land(hooks, con, [charge(f"more{c}", f"more{c}", "2026-02-21T12:00:00Z") for c in range(20)], clock[0])
    tick()
    assert [f.customers for f in model.stored_fits(run(con))] == [260, 200, 200]
    hooks.stop()


def test_the_pipeline_registers_churn_before_health(db):
    con, settings = db
    ext = pipeline_extensions(con, settings)
    try:
        owners = [getattr(h, "__self__", None) for h in ext.after_land]
        churn_at = next(i for i, o in enumerate(owners) if isinstance(o, model.ChurnPipelineHooks))
        health_at = next(i for i, o in enumerate(owners) if type(o).__name__ == "HealthRefresher")
        assert churn_at < health_at
        assert any(isinstance(getattr(h, "__self__", None), model.ChurnPipelineHooks) for h in ext.on_tick)
    finally:
        for stop in ext.on_stop:
            stop()


def test_churn_settings_load_from_toml_and_reject_unknown_keys(tmp_path: Path):
    path = tmp_path / "c.toml"
    path.write_text("[churn]\nrefit_interval_hours = 6\nalert_p_alive_below = 0.2\n"
                    "valuable_min_transactions = 5\nvaluable_min_lifetime_value = 250\n")
    churn = load_settings(path, env={}).churn
    assert (churn.refit_interval_hours, churn.alert_p_alive_below, churn.valuable_min_transactions,
            churn.valuable_min_lifetime_value) == (6.0, 0.2, 5, 250.0)
    assert load_settings(None, env={}).churn.refit_interval_hours == 24.0
    path.write_text("[churn]\nrefit_every = 6\n")
    with pytest.raises(UserError, match="unknown key 'churn.refit_every'"):
        load_settings(path, env={})


def test_score_customers_is_safe_beside_a_concurrent_reader(db):
    """Scoring in the landing transaction while another cursor reads (the dashboard over Quack does)."""
    con, settings = db
    land_and_roll_up(con, settings, [charge(f"a{i}", f"c{i % 20}", f"2026-01-{1 + i % 28:02d}T12:00:00Z")
                                     for i in range(200)])
    store_fit(con, CDNOW, datetime(2026, 2, 1))
    errors: list[BaseException] = []

    def read() -> None:
        try:
            with con.cursor() as cur:
                for _ in range(50):
                    cur.execute("select count(*), avg(p_alive) from customer_churn").fetchall()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    for day in range(1, 6):
        with sqlfiles.transaction(con):  # every customer, in a transaction of its own
            model.score_customers(con, settings, None, datetime(2026, 2, day))
    reader.join()
    assert errors == [] and len(churn_rows(con)) == 20
