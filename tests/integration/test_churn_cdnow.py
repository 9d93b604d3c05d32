"""The published BG/NBD estimates on CDNOW, through the product's own path: the transactions as payment events,
`customer-health load`, then `customer-health churn-model fit --as-of 1997-09-30 --json`.

Fader, Hardie & Lee (2005), CDNOW sample (2,357 customers, 39-week calibration ending 1997-09-30):
r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4. Data: tests/data/README.md.

Each CDNOW purchase record becomes one succeeded charge (amount in USD, occurred_at at noon UTC of its date),
and each customer a profile event. Eight records are purchases of $0.00 (the only purchase of 8 customers);
the event contract refuses charges of 0 (amount must be > 0), so they are sent as charges of $0.01: they
count as transactions as in the paper (BG/NBD uses only the dates), and move no amount that matters.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from customer_health.churn import bgnbd

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
PAPER = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PAPER_LL = -9582.4
ZERO_AMOUNT_STAND_IN = "0.01"


def cli(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "customer_health.cli", *args, "--db", str(db)],
                          capture_output=True, text=True, timeout=300, cwd=REPO)


def write_cdnow_events(directory: Path) -> tuple[Path, Path, int]:
    """customers.jsonl (one profile per customer, signed up on its first purchase day) and payments.jsonl."""
    with open(DATA / "cdnow_sample_transactions.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    first_day: dict[str, str] = {}
    for r in rows:
        first_day[r["customer_id"]] = min(first_day.get(r["customer_id"], r["date"]), r["date"])
    customers = directory / "customers.jsonl"
    with customers.open("w") as out:
        for customer_id, day in sorted(first_day.items(), key=lambda item: int(item[0])):
            out.write(json.dumps({
                "event_id": f"cdnow-customer-{customer_id}", "customer_id": customer_id,
                "occurred_at": f"{day}T00:00:00Z", "name": f"CDNOW customer {customer_id}", "kind": "b2c",
                "plan": "standard", "signed_up_at": f"{day}T00:00:00Z",
            }) + "\n")
    payments = directory / "payments.jsonl"
    zero = 0
    with payments.open("w") as out:
        for number, r in enumerate(rows, start=1):
            amount = r["amount"]
            if float(amount) == 0:
                zero += 1
                amount = ZERO_AMOUNT_STAND_IN
            out.write(json.dumps({
                "event_id": f"cdnow-purchase-{number}", "customer_id": r["customer_id"],
                "occurred_at": f"{r['date']}T12:00:00Z", "invoice_id": f"cdnow-order-{number}", "kind": "charge",
                "status": "succeeded", "amount": amount, "currency": "USD",
            }) + "\n")
    return customers, payments, zero


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> dict:
    directory = tmp_path_factory.mktemp("cdnow")
    db = directory / "cdnow.duckdb"
    customers, payments, zero = write_cdnow_events(directory)
    load = cli("load", str(customers), str(payments), "--json", db=db)
    assert load.returncode == 0, load.stderr
    fit = cli("churn-model", "fit", "--as-of", "1997-09-30", "--json", db=db)
    assert fit.returncode == 0, fit.stderr
    return {"db": db, "load": json.loads(load.stdout), "fit": json.loads(fit.stdout), "zero": zero}


def test_every_cdnow_record_lands_as_an_event(loaded):
    assert loaded["zero"] == 8
    assert loaded["load"] == {"rows": 2357 + 6919, "landed": 2357 + 6919, "duplicates": 0, "dead_lettered": 0,
                              "already_dead_lettered": 0, "quarantined": 0}


def test_fit_through_the_product_reproduces_the_published_estimates(loaded):
    fit = loaded["fit"]
    assert fit["customers"] == 2357
    assert fit["converged"] is True
    assert {k: round(fit[k], 3) for k in PAPER} == PAPER
    assert round(fit["log_likelihood"], 1) == PAPER_LL
    assert (fit["window_start"], fit["window_end"], fit["as_of"]) == ("1997-01-01", "1997-09-30",
                                                                      "1997-09-30T00:00:00Z")
    assert fit["time_unit"] == "weeks" and fit["trigger"] == "manual"


def test_the_fit_is_stored_and_every_customer_scored_with_it(loaded):
    fit = loaded["fit"]
    assert fit["scoring_fit_id"] == fit["fit_id"] and fit["customers_scored"] == 2357
    listed = cli("churn-model", "fits", "--json", db=loaded["db"])
    assert listed.returncode == 0, listed.stderr
    (stored,) = json.loads(listed.stdout)
    assert {k: stored[k] for k in ("fit_id", "r", "alpha", "a", "b", "log_likelihood", "customers")} == {
        k: fit[k] for k in ("fit_id", "r", "alpha", "a", "b", "log_likelihood", "customers")}
    with duckdb.connect(str(loaded["db"]), read_only=True) as con:
        scored, fit_ids = con.execute("select count(*), list(distinct fit_id) from customer_churn").fetchone()
    assert scored == 2357 and fit_ids == [fit["fit_id"]]


def test_customer_json_carries_the_churn_figures_at_the_calibration_end(loaded):
    """Customer 1 (published summary x = 2, t_x = 30.43, T = 38.86 weeks) through `customer 1 --json`."""
    result = cli("customer", "1", "--as-of", "1997-09-30", "--json", db=loaded["db"])
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    fit = loaded["fit"]
    params = bgnbd.BgNbdParams(fit["r"], fit["alpha"], fit["a"], fit["b"])
    x, t_x, T = 2.0, (date(1997, 8, 2) - date(1997, 1, 1)).days / 7, (date(1997, 9, 30) - date(1997, 1, 1)).days / 7
    assert doc["p_alive"] == pytest.approx(float(bgnbd.p_alive(params, x, t_x, T)), rel=1e-9)
    assert doc["expected_tx_30d"] == pytest.approx(float(bgnbd.expected_transactions(params, 30 / 7, x, t_x, T)))
    assert doc["expected_tx_90d"] == pytest.approx(float(bgnbd.expected_transactions(params, 90 / 7, x, t_x, T)))
    # Average charge: (29.33 + 29.73 + 14.96) / 3 USD, in the reporting currency (EUR at 1.08 USD per EUR).
    avg_charge = (29.33 + 29.73 + 14.96) / 3 / 1.08
    assert doc["expected_value_90d"] == pytest.approx(doc["expected_tx_90d"] * avg_charge)


def test_an_empty_window_is_one_clear_error_and_stores_nothing(loaded):
    result = cli("churn-model", "fit", "--as-of", "1996-12-31", "--json", db=loaded["db"])
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("customer-health: no succeeded charge on or before 1996-12-31")
    assert "calibration window is empty" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    listed = json.loads(cli("churn-model", "fits", "--json", db=loaded["db"]).stdout)
    assert [f["fit_id"] for f in listed] == [loaded["fit"]["fit_id"]]


def test_a_future_as_of_is_refused(loaded):
    result = cli("churn-model", "fit", "--as-of", "2999-01-01", db=loaded["db"])
    assert result.returncode == 1 and "is in the future" in result.stderr


def test_fit_on_a_missing_database_says_what_to_do(tmp_path: Path):
    result = cli("churn-model", "fit", db=tmp_path / "none.duckdb")
    assert result.returncode == 1
    assert "no database at" in result.stderr and "load" in result.stderr
    assert not (tmp_path / "none.duckdb").exists()
