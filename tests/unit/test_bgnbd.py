"""BG/NBD model: CDNOW reproduction (Fader, Hardie & Lee 2005), derivatives, closed forms, edge cases."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy.special import beta as beta_fn
from scipy.special import betaln
from scipy.special import gamma as gamma_fn

from customer_health.churn.bgnbd import (
    BgNbdParams,
    expected_transactions,
    fit,
    log_likelihood,
    log_likelihood_gradient,
    p_alive,
    summarise_transactions,
)

DATA = Path(__file__).resolve().parents[1] / "data"
# Table / text of Fader, Hardie & Lee (2005) for the CDNOW sample, 39-week calibration period.
PAPER = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
PAPER_LL = -9582.4


def expected_transactions_new_customer(params: BgNbdParams, t: float) -> np.ndarray:
    """E[X(t)] (eq. 7): E[Y(t) | x=0, t_x=0, T=0], a customer at their first purchase."""
    return expected_transactions(params, t, 0, 0.0, 0.0)


def _cdnow_transactions() -> tuple[np.ndarray, np.ndarray]:
    with open(DATA / "cdnow_sample_transactions.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return np.array([int(r["customer_id"]) for r in rows]), np.array([r["date"] for r in rows])


@pytest.fixture(scope="module")
def cdnow() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    ids, days = _cdnow_transactions()
    return summarise_transactions(ids, days, "1997-09-30")


@pytest.fixture(scope="module")
def cdnow_fit(cdnow):
    _, x, t_x, T = cdnow
    return fit(x, t_x, T)


def _simulate(params: BgNbdParams, T: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw (x, t_x) from the BG/NBD generative story for customers of ages T."""
    lam = rng.gamma(params.r, 1.0 / params.alpha, len(T))
    p = rng.beta(params.a, params.b, len(T))
    purchases = rng.poisson(lam * T)
    x = np.minimum(purchases, rng.geometric(p))
    t_x = np.zeros(len(T))
    has = x > 0
    t_x[has] = T[has] * rng.beta(x[has], purchases[has] - x[has] + 1)
    return x.astype(float), t_x


# ----------------------------------------------------------------------------------------------
# (a) CDNOW: data preparation and the paper's estimates


def test_summary_matches_fader_hardie_cdnow_summary(cdnow):
    """Our (x, t_x, T) equal the published CDNOW calibration summary (ID, x, t_x, T rounded to 2 decimals)."""
    ids, x, t_x, T = cdnow
    published = np.loadtxt(DATA / "cdnow_sample_summary.csv", delimiter=",", skiprows=1)
    assert len(ids) == 2357
    np.testing.assert_array_equal(ids, published[:, 0])
    np.testing.assert_array_equal(x, published[:, 1])
    np.testing.assert_allclose(t_x, published[:, 2], atol=0.005 + 1e-9)
    np.testing.assert_allclose(T, published[:, 3], atol=0.005 + 1e-9)
    # The published x counts distinct purchase days: the raw file has same-day duplicates.
    raw_ids, raw_days = _cdnow_transactions()
    in_window = raw_days <= "1997-09-30"
    raw_repeats = np.bincount(raw_ids[in_window], minlength=2358)[1:] - 1
    assert np.any(raw_repeats > x)


def test_fit_reproduces_paper_estimates(cdnow_fit):
    assert cdnow_fit.converged, cdnow_fit.message
    p = cdnow_fit.params
    assert (round(p.r, 3), round(p.alpha, 3), round(p.a, 3), round(p.b, 3)) == (0.243, 4.414, 0.793, 2.426)
    assert round(cdnow_fit.log_likelihood, 1) == PAPER_LL
    assert cdnow_fit.customers == 2357
    assert cdnow_fit.unique_rows < cdnow_fit.customers  # identical (x, t_x, T) rows were merged


def test_fit_maximises_the_likelihood(cdnow, cdnow_fit):
    _, x, t_x, T = cdnow
    ll = log_likelihood(cdnow_fit.params, x, t_x, T)
    assert ll == pytest.approx(cdnow_fit.log_likelihood, abs=1e-8)
    assert ll >= log_likelihood(PAPER, x, t_x, T)  # the rounded published values are slightly worse
    rng = np.random.default_rng(7)
    for _ in range(20):
        nudged = BgNbdParams(*(cdnow_fit.params.as_array() * np.exp(rng.normal(0, 1e-3, 4))))
        assert log_likelihood(nudged, x, t_x, T) < ll


def test_calibration_end_convention_matters():
    """T is measured to the START of 1997-09-30; measuring to its end (1997-10-01) does not give the paper."""
    ids, days = _cdnow_transactions()
    _, x, t_x, T = summarise_transactions(ids, days, "1997-10-01")
    other = fit(x, t_x, T)
    assert round(other.log_likelihood, 1) != PAPER_LL
    assert round(other.params.a, 3) != PAPER.a


def test_fit_on_published_rounded_summary_also_reproduces_paper():
    published = np.loadtxt(DATA / "cdnow_sample_summary.csv", delimiter=",", skiprows=1)
    result = fit(published[:, 1], published[:, 2], published[:, 3])
    p = result.params
    assert (round(p.r, 3), round(p.alpha, 3), round(p.a, 3), round(p.b, 3)) == (0.243, 4.414, 0.793, 2.426)
    assert round(result.log_likelihood, 1) == PAPER_LL


def test_fit_recovers_simulated_parameters():
    truth = BgNbdParams(r=0.5, alpha=6.0, a=1.2, b=3.5)
    rng = np.random.default_rng(11)
    T = rng.uniform(26.0, 52.0, 30_000)
    x, t_x = _simulate(truth, T, rng)
    result = fit(x, t_x, T)
    assert result.converged, result.message
    np.testing.assert_allclose(result.params.as_array(), truth.as_array(), rtol=0.15)


def test_weights_equal_repeated_rows():
    x = np.array([0.0, 1.0, 3.0, 2.0, 0.0])
    t_x = np.array([0.0, 5.0, 20.0, 10.0, 0.0])
    T = np.array([30.0, 25.0, 30.0, 12.0, 8.0])
    w = np.array([3, 1, 2, 4, 5])
    repeated = [np.repeat(a, w) for a in (x, t_x, T)]
    assert log_likelihood(PAPER, x, t_x, T, weights=w) == pytest.approx(log_likelihood(PAPER, *repeated))
    np.testing.assert_allclose(
        log_likelihood_gradient(PAPER, x, t_x, T, weights=w), log_likelihood_gradient(PAPER, *repeated)
    )


# ----------------------------------------------------------------------------------------------
# (b) likelihood and gradient


def _naive_log_likelihood(p: BgNbdParams, x, t_x, T) -> float:
    """The paper's likelihood, term by term, in linear space (fine for small x)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    common = gamma_fn(p.r + x) * p.alpha**p.r / gamma_fn(p.r)
    first = beta_fn(p.a, p.b + x) / beta_fn(p.a, p.b) * common / (p.alpha + T) ** (p.r + x)
    second = np.where(
        x > 0,
        beta_fn(p.a + 1, p.b + x - 1) / beta_fn(p.a, p.b) * common / (p.alpha + t_x) ** (p.r + x),
        0.0,
    )
    return float(np.sum(np.log(first + second)))


def test_log_likelihood_matches_paper_formula():
    x = np.array([0, 1, 2, 5, 0, 3])
    t_x = np.array([0.0, 3.5, 30.43, 20.0, 0.0, 38.0])
    T = np.array([38.86, 38.86, 38.86, 25.0, 1.0, 38.0])
    for params in (PAPER, BgNbdParams(1.3, 0.7, 2.5, 0.6), BgNbdParams(0.05, 30.0, 0.2, 9.0)):
        assert log_likelihood(params, x, t_x, T) == pytest.approx(_naive_log_likelihood(params, x, t_x, T))


def test_log_likelihood_is_finite_for_heavy_buyers():
    ll = log_likelihood(PAPER, [2000.0, 500.0], [38.0, 1.0], [39.0, 39.0])
    assert np.isfinite(ll)


@pytest.mark.parametrize(
    "params",
    [
        PAPER,
        BgNbdParams(1.7, 0.3, 3.0, 0.4),
        BgNbdParams(0.02, 80.0, 0.1, 15.0),
        BgNbdParams(5.0, 5.0, 1.0, 1.0),
    ],
)
def test_gradient_matches_central_differences(cdnow, params):
    _, x, t_x, T = cdnow
    x = np.concatenate([x, [150.0]])  # one heavy buyer exercises large-x terms
    t_x, T = np.concatenate([t_x, [37.0]]), np.concatenate([T, [38.0]])
    analytic = log_likelihood_gradient(params, x, t_x, T)
    theta = np.log(params.as_array())
    h = 1e-5
    numeric = np.empty(4)
    for k in range(4):
        e = np.zeros(4)
        e[k] = h
        up = log_likelihood(BgNbdParams(*np.exp(theta + e)), x, t_x, T)
        down = log_likelihood(BgNbdParams(*np.exp(theta - e)), x, t_x, T)
        numeric[k] = (up - down) / (2 * h)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-4)


# ----------------------------------------------------------------------------------------------
# (c) P(alive)


def test_p_alive_is_one_without_repeat_purchases():
    T = np.array([0.0, 0.5, 10.0, 38.86, 1e4])
    np.testing.assert_array_equal(p_alive(PAPER, np.zeros(5), np.zeros(5), T), np.ones(5))


def test_p_alive_matches_closed_form_and_decreases_with_age():
    T = np.linspace(30.43, 300.0, 200)
    values = p_alive(PAPER, 2, 30.43, T)
    r, alpha, a, b = PAPER.as_array()
    closed = 1.0 / (1.0 + a / (b + 1.0) * ((alpha + T) / (alpha + 30.43)) ** (r + 2))
    np.testing.assert_allclose(values, closed, rtol=1e-12)
    assert np.all(np.diff(values) < 0)
    assert values[0] == pytest.approx(1.0 / (1.0 + a / (b + 1.0)))  # bought at T: only the BG dropout


def test_p_alive_stays_in_unit_interval_for_extreme_customers():
    values = p_alive(PAPER, [5000.0, 5000.0, 1.0], [0.01, 38.9, 1e-6], [39.0, 39.0, 1e6])
    assert np.all(np.isfinite(values)) and np.all((values >= 0) & (values <= 1))
    assert values[0] < 1e-100 < values[1]


# ----------------------------------------------------------------------------------------------
# (d) conditional and unconditional expectations


def _expected_by_quadrature(p: BgNbdParams, t: float, x: float, t_x: float, T: float) -> float:
    """E[Y(t) | x, t_x, T] = P(alive) E[(1 - exp(-lambda p t)) / p | alive], integrated over p numerically.

    Given alive at T: lambda ~ Gamma(r+x, alpha+T), p ~ Beta(a, b+x), and E[Y(t) | lambda, p] =
    (1 - exp(-lambda p t)) / p (memoryless, as for a new customer in the paper); integrating lambda out gives
    1 - ((alpha+T)/(alpha+T+p t))^(r+x). P(alive) is from the likelihood's two terms.
    """
    shape = p.r + x

    def f(q: float) -> float:
        if q == 0.0:
            return shape * t / (p.alpha + T)
        return -np.expm1(-shape * np.log1p(q * t / (p.alpha + T))) / q

    integral, _ = integrate.quad(f, 0.0, 1.0, weight="alg", wvar=(p.a - 1.0, p.b + x - 1.0), epsabs=1e-13)
    if_alive = integral / np.exp(betaln(p.a, p.b + x))
    if x == 0:
        return if_alive
    log_alive_term = betaln(p.a, p.b + x) - shape * np.log(p.alpha + T)
    log_dead_term = betaln(p.a + 1.0, p.b + x - 1.0) - shape * np.log(p.alpha + t_x)
    return if_alive / (1.0 + np.exp(log_dead_term - log_alive_term))


def _expected_by_quadrature_narrow(p: BgNbdParams, t: float, x: float, t_x: float, T: float) -> float:
    """:func:`_expected_by_quadrature` for a narrow Beta(a, b+x): the Beta density in log space, integrated
    over its mean +- 40 standard deviations (the algebraic weight of quad underflows for a, b ~ 1e6)."""
    shape, b = p.r + x, p.b + x
    n = p.a + b
    mu, sd = p.a / n, np.sqrt(p.a * b / (n * n * (n + 1.0)))

    def f(q: float) -> float:
        log_density = (p.a - 1.0) * np.log(q) + (b - 1.0) * np.log1p(-q) - betaln(p.a, b)
        return float(-np.expm1(-shape * np.log1p(q * t / (p.alpha + T))) / q * np.exp(log_density))

    lo, hi = max(mu - 40.0 * sd, 1e-300), min(mu + 40.0 * sd, 1.0 - 1e-16)
    if_alive, _ = integrate.quad(f, lo, hi, points=[mu], epsabs=0.0, epsrel=1e-12, limit=200)
    if x == 0:
        return if_alive
    log_alive_term = betaln(p.a, b) - shape * np.log(p.alpha + T)
    log_dead_term = betaln(p.a + 1.0, b - 1.0) - shape * np.log(p.alpha + t_x)
    return if_alive / (1.0 + np.exp(log_dead_term - log_alive_term))


def test_paper_conditional_expectation_example():
    """Customer with x=2, t_x=30.43, T=38.86 expects 1.226 transactions in the next 39 weeks (the paper)."""
    value = float(expected_transactions(PAPER, 39.0, 2, 30.43, 38.86))
    assert round(value, 3) == 1.226
    assert value == pytest.approx(_expected_by_quadrature(PAPER, 39.0, 2, 30.43, 38.86), rel=1e-9)


@pytest.mark.parametrize(
    ("params", "t", "x", "t_x", "T"),
    [
        (PAPER, 39.0, 0, 0.0, 38.86),
        (PAPER, 39.0, 1, 1.71, 38.86),
        (PAPER, 1.0, 7, 29.43, 31.0),
        (PAPER, 520.0, 3, 10.0, 12.0),
        (PAPER, 39.0, 60, 38.0, 38.86),
        (PAPER, 39.0, 400, 30.0, 39.0),
        (BgNbdParams(0.8, 2.0, 3.5, 1.5), 52.0, 4, 20.0, 40.0),
        (BgNbdParams(0.8, 2.0, 1.0, 1.5), 52.0, 4, 20.0, 40.0),  # a = 1: removable singularity of eq. 10
        (BgNbdParams(0.8, 2.0, 1.00003, 1.5), 52.0, 0, 0.0, 40.0),
        (BgNbdParams(3.0, 0.5, 0.3, 0.4), 5000.0, 12, 5.0, 80.0),
        # r - a integer with z > 0.9: scipy's hyp2f1 returns inf/nan there unless worked around.
        (BgNbdParams(1.0, 1.0, 2.0, 1.0), 19.0, 99, 1.0, 1.0),
        (BgNbdParams(2.0, 1.0, 2.0, 3.0), 500.0, 10, 5.0, 20.0),
        # a + b = 1 with x = 0: a pole of 2F1 cancelled by the prefactor.
        (BgNbdParams(0.5, 2.0, 0.3, 0.7), 39.0, 0, 0.0, 10.0),
    ],
)
def test_conditional_expectation_matches_quadrature(params, t, x, t_x, T):
    value = float(expected_transactions(params, t, x, t_x, T))
    assert value == pytest.approx(_expected_by_quadrature(params, t, x, t_x, T), rel=1e-7)


@pytest.mark.parametrize(
    ("params", "x"),
    [
        # Beyond hyp2f1's reach (nan from a ~ 8e3): the narrow-Beta expansion, checked on both sides of
        # the switch and at the fit that once stopped the pipeline (a = 6.5e6, b = 1.5e6).
        (BgNbdParams(0.5, 3.0, 2_999.0, 700.0), 5),
        (BgNbdParams(0.5, 3.0, 3_000.0, 700.0), 5),
        (BgNbdParams(0.5, 3.0, 1.0e4, 0.3), 0),
        (BgNbdParams(0.5, 3.0, 1.0e4, 2.0e6), 30),
        (BgNbdParams(0.24, 4.4, 6.5e6, 1.5e6), 0),
        (BgNbdParams(0.24, 4.4, 6.5e6, 1.5e6), 12),
        (BgNbdParams(0.24, 4.4, 6.5e6, 1.5e6), 300),
    ],
)
def test_conditional_expectation_for_a_narrow_dropout_beta(params, x):
    t_x, T = (20.0 if x else 0.0), 40.0
    with np.errstate(all="raise"):
        value = float(expected_transactions(params, 4.3, x, t_x, T))
    assert np.isfinite(value) and value > 0.0
    assert value == pytest.approx(_expected_by_quadrature_narrow(params, 4.3, x, t_x, T), rel=1e-7)


def test_expectation_of_cdnow_customers_is_consistent(cdnow, cdnow_fit):
    _, x, t_x, T = cdnow
    forecast = expected_transactions(cdnow_fit.params, 39.0, x, t_x, T)
    assert forecast.shape == x.shape and np.all(np.isfinite(forecast)) and np.all(forecast >= 0)
    longer = expected_transactions(cdnow_fit.params, 78.0, x, t_x, T)
    assert np.all(longer >= forecast)
    np.testing.assert_array_equal(expected_transactions(cdnow_fit.params, 0.0, x, t_x, T), 0.0)
    # Broadcasting: one customer, several horizons.
    horizons = np.array([1.0, 13.0, 39.0])
    np.testing.assert_allclose(
        expected_transactions(cdnow_fit.params, horizons, 2, 30.43, 38.86),
        [float(expected_transactions(cdnow_fit.params, h, 2, 30.43, 38.86)) for h in horizons],
    )


@pytest.mark.parametrize("t", [0.5, 39.0, 78.0, 1000.0])
def test_new_customer_expectation_matches_quadrature(t):
    for params in (PAPER, BgNbdParams(0.8, 2.0, 3.5, 1.5)):
        value = float(expected_transactions_new_customer(params, t))
        assert value == pytest.approx(_expected_by_quadrature(params, t, 0, 0.0, 0.0), rel=1e-8)


def test_new_customer_expectation_matches_simulation():
    rng = np.random.default_rng(3)
    T = np.full(400_000, 39.0)
    x, _ = _simulate(PAPER, T, rng)
    expected = float(expected_transactions_new_customer(PAPER, 39.0))
    assert x.mean() == pytest.approx(expected, abs=4 * x.std() / np.sqrt(len(x)))


@settings(max_examples=60, deadline=None)
@given(
    r=st.floats(0.05, 5.0),
    alpha=st.floats(0.5, 50.0),
    a=st.floats(0.1, 5.0),
    b=st.floats(0.1, 10.0),
    x=st.integers(0, 300),
    frac=st.floats(0.01, 1.0),
    T=st.floats(0.0, 100.0),
    t=st.floats(0.0, 200.0),
)
def test_expectation_properties(r, alpha, a, b, x, frac, T, t):
    params = BgNbdParams(r, alpha, a, b)
    t_x = frac * T if x > 0 else 0.0
    assume(x == 0 or t_x > 0)  # a repeat purchase happens after the first one
    now = float(expected_transactions(params, t, x, t_x, T))
    later = float(expected_transactions(params, t + 10.0, x, t_x, T))
    assert np.isfinite(now) and now >= 0.0
    assert later >= now - 1e-9 * max(1.0, now)
    alive = float(p_alive(params, x, t_x, T))
    assert 0.0 <= alive <= 1.0


# ----------------------------------------------------------------------------------------------
# (e) edge cases and input checks


def test_empty_input_raises_clear_error():
    with pytest.raises(ValueError, match="no customers in the window"):
        fit([], [], [])
    with pytest.raises(ValueError, match="no customers in the window"):
        log_likelihood(PAPER, [], [], [])
    ids, x, t_x, T = summarise_transactions([1, 2], ["2024-02-01", "2024-03-01"], "2024-01-31")
    assert len(ids) == len(x) == len(t_x) == len(T) == 0
    with pytest.raises(ValueError, match="no customers in the window"):
        fit(x, t_x, T)


@pytest.mark.parametrize(
    ("x", "t_x", "T", "message"),
    [
        ([1, 2], [1.0], [2.0, 3.0], "same length"),
        ([-1], [0.0], [2.0], "frequency must be >= 0"),
        ([1], [-1.0], [2.0], "recency must be >= 0"),
        ([1], [3.0], [2.0], "recency must be <= T"),
        ([2], [0.0], [2.0], "recency must be > 0 for customers with frequency > 0"),
        ([0], [1.0], [2.0], "recency must be 0 for customers with frequency 0"),
        ([1.5], [1.0], [2.0], "whole numbers"),
        ([1], [np.nan], [2.0], "finite"),
    ],
)
def test_invalid_input_raises_value_error(x, t_x, T, message):
    with pytest.raises(ValueError, match=message):
        fit(x, t_x, T)


def test_invalid_parameters_and_horizon_raise():
    with pytest.raises(ValueError, match="parameters"):
        p_alive(BgNbdParams(0.0, 1.0, 1.0, 1.0), [1], [1.0], [2.0])
    with pytest.raises(ValueError, match="horizon"):
        expected_transactions(PAPER, -1.0, [1], [1.0], [2.0])


def _assert_sane(result, x, t_x, T):
    values = result.params.as_array()
    assert np.all(np.isfinite(values)) and np.all(values > 0)
    assert np.isfinite(result.log_likelihood)
    assert result.log_likelihood == pytest.approx(log_likelihood(result.params, x, t_x, T), abs=1e-9)
    assert result.message


@pytest.mark.parametrize(("x", "t_x", "T"), [([3], [20.0], [30.0]), ([0], [0.0], [30.0])])
def test_single_customer_fit_is_finite(x, t_x, T):
    result = fit(x, t_x, T)
    _assert_sane(result, x, t_x, T)
    assert not result.converged  # one customer cannot identify four parameters


def test_identical_customers_fit_is_finite_and_flagged():
    x, t_x, T = [4.0] * 200, [25.0] * 200, [39.0] * 200
    result = fit(x, t_x, T)
    _assert_sane(result, x, t_x, T)
    assert not result.converged
    assert result.unique_rows == 1 and result.customers == 200


def test_no_repeat_customers_fit_is_finite_and_flagged():
    T = np.linspace(1.0, 39.0, 300)
    zeros = np.zeros_like(T)
    result = fit(zeros, zeros, T)
    _assert_sane(result, zeros, zeros, T)
    assert not result.converged
    assert -1e-3 < result.log_likelihood <= 0.0  # the supremum, 0, is approached on the boundary
    np.testing.assert_array_equal(p_alive(result.params, zeros, zeros, T), 1.0)


# ----------------------------------------------------------------------------------------------
# summarise_transactions


def test_summarise_transactions_dedupes_and_cuts_at_calibration_end():
    ids = ["b", "a", "a", "a", "a", "b", "c", "a"]
    days = [
        dt.date(2024, 1, 8),
        dt.date(2024, 1, 1),
        dt.date(2024, 1, 1),  # same customer-day: one transaction
        dt.date(2024, 1, 15),
        dt.date(2024, 1, 29),
        dt.date(2024, 3, 1),  # after the calibration end: ignored
        dt.date(2024, 2, 5),  # first purchase after the end: customer excluded
        dt.date(2024, 1, 29),
    ]
    out_ids, x, t_x, T = summarise_transactions(ids, days, dt.date(2024, 2, 1))
    np.testing.assert_array_equal(out_ids, ["a", "b"])
    np.testing.assert_array_equal(x, [2.0, 0.0])
    np.testing.assert_allclose(t_x, [4.0, 0.0])  # 28 days = 4 weeks
    np.testing.assert_allclose(T, [31 / 7, 24 / 7])


def test_summarise_transactions_accepts_datetime64_and_timestamps():
    days = np.array(["2024-01-01T09:00", "2024-01-01T17:30", "2024-01-08T00:00"], dtype="datetime64[m]")
    out_ids, x, t_x, T = summarise_transactions(np.array([7, 7, 7]), days, np.datetime64("2024-01-15"))
    np.testing.assert_array_equal(out_ids, [7])
    np.testing.assert_array_equal(x, [1.0])
    np.testing.assert_allclose(t_x, [1.0])
    np.testing.assert_allclose(T, [2.0])


def test_summarise_transactions_rejects_bad_input():
    with pytest.raises(ValueError, match="same length"):
        summarise_transactions([1, 2], ["2024-01-01"], "2024-02-01")
    with pytest.raises(ValueError, match="dates"):
        summarise_transactions([1], ["not a date"], "2024-02-01")
