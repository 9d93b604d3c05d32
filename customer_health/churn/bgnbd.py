"""The BG/NBD "buy till you die" model (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

Each customer, while alive, buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)`` (shape ``r``,
rate ``alpha``); after every repeat transaction they drop out for good with probability ``p ~ Beta(a, b)``.
A customer is summarised over a calibration window by

* ``frequency`` x: the number of repeat transactions (transactions after the first purchase);
* ``recency`` t_x: the time of the last repeat transaction, 0 when x = 0;
* ``T``: the customer's age at the end of the window.

Times are measured from the customer's first purchase, in weeks in this project (any unit works as long
as all times use the same one; ``alpha`` then has units of that time).

The per-customer likelihood L(r, alpha, a, b | x, t_x, T) of the paper (B = beta function, G = gamma):

    L = B(a, b+x)/B(a, b) * G(r+x)/G(r) * alpha^r / (alpha+T)^(r+x)
        + [x > 0] * B(a+1, b+x-1)/B(a, b) * G(r+x)/G(r) * alpha^r / (alpha+t_x)^(r+x)

which is evaluated in log space as ``common + log(1 + e^d)`` with
``d = log(a/(b+x-1)) + (r+x) log((alpha+T)/(alpha+t_x))`` for x > 0 (``d = -inf`` for x = 0), so that neither
term under- or overflows; ``1/(1 + e^d)`` is P(alive).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

__all__ = [
    "BgNbdFit",
    "BgNbdParams",
    "expected_transactions",
    "fit",
    "log_likelihood",
    "log_likelihood_gradient",
    "p_alive",
    "summarise_transactions",
]

FloatArray = npt.NDArray[np.float64]

# The optimiser works on log-parameters, each kept in [log(1e-8), log(1e8)] so that a likelihood whose
# supremum is not attained (e.g. every customer identical, or nobody repeats) still yields finite parameters.
_LOG_LOWER = float(np.log(1e-8))
_LOG_UPPER = float(np.log(1e8))
# A log-parameter within this distance of a bound counts as "at the bound" (the fit did not converge).
_AT_BOUND = 1e-3
# Converged means, at an interior point: max |d mean-log-likelihood / d log-parameter| below
# _GRADIENT_TOLERANCE, the Hessian of the mean log-likelihood (log-parameters) negative definite with every
# eigenvalue below -_MIN_CURVATURE, and the Newton step to the maximum below _NEWTON_TOLERANCE in every
# log-parameter.
_GRADIENT_TOLERANCE = 1e-5
_MIN_CURVATURE = 1e-6
_NEWTON_TOLERANCE = 1e-4
# Closed forms at parameters within _NEAR_INTEGER of a problem point (a = 1, r - a integer) are interpolated
# from nodes _BRIDGE and 2*_BRIDGE away (see _bridge).
_NEAR_INTEGER = 1e-5
_BRIDGE = 1e-3
# From this a on, scipy's hyp2f1 in eq. 10 overflows (nan from a ~ 8e3 in tests) and the dropout
# probability's Beta posterior is so narrow that a second-order expansion of the expectation over it agrees
# with eq. 10 to < 6e-8 relative (measured at a = 3e3 against the exact form; the error falls as 1/a^2).
_LARGE_A = 3e3


@dataclass(frozen=True)
class BgNbdParams:
    """Population parameters: purchase rate ~ Gamma(shape r, rate alpha), dropout prob. ~ Beta(a, b).

    ``alpha`` is in the time unit of the data (weeks here).
    """

    r: float
    alpha: float
    a: float
    b: float

    def as_array(self) -> FloatArray:
        """``[r, alpha, a, b]`` as a float array."""
        return np.array([self.r, self.alpha, self.a, self.b], dtype=np.float64)

    @classmethod
    def from_log(cls, log_params: npt.ArrayLike) -> BgNbdParams:
        """Parameters from ``[log r, log alpha, log a, log b]``."""
        r, alpha, a, b = np.exp(np.asarray(log_params, dtype=np.float64))
        return cls(float(r), float(alpha), float(a), float(b))


@dataclass(frozen=True)
class BgNbdFit:
    """Result of :func:`fit`.

    ``converged`` is True only when the optimiser stopped at a strict interior maximum: every parameter is
    away from the search bounds [1e-8, 1e8], the gradient of the mean log-likelihood with respect to the
    log-parameters is below 1e-5, its Hessian is negative definite (curvature beyond 1e-6 in every direction)
    and the Newton step to the maximum is below 1e-4 in every log-parameter. When the likelihood has no
    interior maximum or is flat in some direction (e.g. all customers identical, or no customer ever repeats)
    ``converged`` is False, ``params`` are the finite best point found within the bounds, and ``message``
    says why.
    """

    params: BgNbdParams
    log_likelihood: float
    customers: int  # rows passed in
    converged: bool
    total_weight: float  # sum of the weights (== customers when no weights were given)
    unique_rows: int  # distinct (x, t_x, T) rows the likelihood was evaluated on
    iterations: int
    gradient_norm: float  # max |d mean LL / d log-parameter| at the returned point
    message: str


# --------------------------------------------------------------------------------------------------
# Input checking


def _check_params(params: BgNbdParams) -> tuple[float, float, float, float]:
    values = (params.r, params.alpha, params.a, params.b)
    if not all(np.isfinite(v) and v > 0 for v in values):
        raise ValueError(f"BG/NBD parameters must be finite and > 0, got {params}")
    return tuple(float(v) for v in values)  # type: ignore[return-value]


def _check_customer_values(x: FloatArray, tx: FloatArray, T: FloatArray) -> None:
    for name, arr in (("frequency", x), ("recency", tx), ("T", T)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be finite (no NaN or inf)")
        if np.any(arr < 0):
            raise ValueError(f"{name} must be >= 0 (found {arr.min()})")
    if np.any(x != np.floor(x)):
        raise ValueError("frequency must be whole numbers (counts of repeat transactions)")
    if np.any(tx > T):
        i = int(np.argmax(tx > T))
        raise ValueError(f"recency must be <= T (customer {i}: recency {tx.flat[i]} > T {T.flat[i]})")
    if np.any((x > 0) & (tx <= 0)):
        raise ValueError("recency must be > 0 for customers with frequency > 0 (a repeat transaction "
                         "happens after the first purchase)")
    if np.any((x == 0) & (tx != 0)):
        raise ValueError("recency must be 0 for customers with frequency 0 (no repeat transaction)")


def _customer_columns(
    frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Three equal-length 1-D float arrays (one entry per customer), validated; empty raises."""
    cols = [np.asarray(c, dtype=np.float64) for c in (frequency, recency, T)]
    if any(c.ndim != 1 for c in cols):
        cols = [np.atleast_1d(c) for c in cols]
        if any(c.ndim != 1 for c in cols):
            raise ValueError("frequency, recency and T must be 1-D arrays (one entry per customer)")
    lengths = [len(c) for c in cols]
    if len(set(lengths)) != 1:
        raise ValueError(f"frequency, recency and T must have the same length, got {lengths}")
    if lengths[0] == 0:
        raise ValueError("no customers in the window")
    x, tx, t_age = cols
    _check_customer_values(x, tx, t_age)
    return x, tx, t_age


def _broadcast_columns(*arrays: npt.ArrayLike) -> list[FloatArray]:
    try:
        return [np.array(a, dtype=np.float64) for a in np.broadcast_arrays(*(np.asarray(a) for a in arrays))]
    except ValueError as exc:
        raise ValueError(f"inputs have incompatible shapes: {exc}") from None


def _check_weights(weights: npt.ArrayLike | None, n: int) -> FloatArray:
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"weights must have one entry per customer ({n}), got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and >= 0")
    if w.sum() <= 0:
        raise ValueError("weights sum to 0: no customers in the window")
    return w


# --------------------------------------------------------------------------------------------------
# Likelihood


@dataclass(frozen=True)
class _Customers:
    """Validated 1-D columns plus the distinct frequencies (functions of x alone are computed once per x)."""

    x: FloatArray
    tx: FloatArray
    T: FloatArray
    w: FloatArray
    levels: FloatArray  # distinct values of x
    level_of: npt.NDArray[np.intp]  # x == levels[level_of]

    @classmethod
    def of(cls, x: FloatArray, tx: FloatArray, T: FloatArray, w: FloatArray) -> _Customers:
        levels, level_of = np.unique(x, return_inverse=True)
        return cls(x, tx, T, w, levels, level_of.ravel())


def _log_odds_dropped(
    p: tuple[float, float, float, float], x: FloatArray, tx: FloatArray, T: FloatArray
) -> FloatArray:
    """d = log(a/(b+x-1)) + (r+x) log((alpha+T)/(alpha+t_x)) for x > 0, -inf for x = 0 (any shape).

    d is the log-odds of "dropped out right after the last repeat transaction" vs "alive at T".
    """
    r, alpha, a, b = p
    has_repeat = x > 0
    b_x_1 = np.where(has_repeat, b + x - 1.0, 1.0)  # > 0 whenever x >= 1
    log_ratio = np.log1p((T - tx) / (alpha + tx))  # log((alpha+T)/(alpha+t_x)) >= 0
    return np.where(has_repeat, np.log(a) - np.log(b_x_1) + (r + x) * log_ratio, -np.inf)


def _log_likelihood_terms(p: tuple[float, float, float, float], c: _Customers) -> FloatArray:
    """Per-customer log-likelihood (see the module docstring)."""
    r, alpha, a, b = p
    k = c.levels
    per_level = gammaln(r + k) - gammaln(r) + betaln(a, b + k) - betaln(a, b)
    # r log(alpha) - (r+x) log(alpha+T), written to stay accurate when alpha >> T.
    ll = per_level[c.level_of] - r * np.log1p(c.T / alpha) - c.x * np.log(alpha + c.T)
    return ll + np.logaddexp(0.0, _log_odds_dropped(p, c.x, c.tx, c.T))


def _ll_and_gradient(p: tuple[float, float, float, float], c: _Customers) -> tuple[float, FloatArray]:
    """Weighted log-likelihood and its gradient with respect to (log r, log alpha, log a, log b)."""
    r, alpha, a, b = p
    x, tx, T, w, k = c.x, c.tx, c.T, c.w, c.levels
    level_ll = gammaln(r + k) - gammaln(r) + betaln(a, b + k) - betaln(a, b)
    psi_ab, psi_abk = digamma(a + b), digamma(a + b + k)
    level_dr = digamma(r + k) - digamma(r)
    level_da = a * (psi_ab - psi_abk)
    level_db = b * (digamma(b + k) - digamma(b) + psi_ab - psi_abk)
    inv_b_k_1 = np.where(k > 0, 1.0 / np.where(k > 0, b + k - 1.0, 1.0), 0.0)

    log1p_T = np.log1p(T / alpha)
    d = _log_odds_dropped(p, x, tx, T)
    ll = level_ll[c.level_of] - r * log1p_T - x * np.log(alpha + T) + np.logaddexp(0.0, d)
    q = expit(d)  # weight of the "dropped out after t_x" term, 0 when x = 0
    log_ratio = np.log1p((T - tx) / (alpha + tx))
    d_log_r = r * (level_dr[c.level_of] - log1p_T + q * log_ratio)
    d_log_alpha = -x + (r + x) * ((1.0 - q) * T / (alpha + T) + q * tx / (alpha + tx))
    d_log_a = level_da[c.level_of] + q
    d_log_b = level_db[c.level_of] - b * q * inv_b_k_1[c.level_of]
    grad = np.array([w @ d_log_r, w @ d_log_alpha, w @ d_log_a, w @ d_log_b])
    return float(w @ ll), grad


def log_likelihood(
    params: BgNbdParams,
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,
    *,
    weights: npt.ArrayLike | None = None,
) -> float:
    """Total BG/NBD log-likelihood (the paper's L(r, alpha, a, b | x, t_x, T), summed, optionally weighted).

    Inputs are validated as in :func:`fit`. The result is finite for any valid parameters and data.
    """
    p = _check_params(params)
    x, tx, t_age = _customer_columns(frequency, recency, T)
    w = _check_weights(weights, len(x))
    return float(w @ _log_likelihood_terms(p, _Customers.of(x, tx, t_age, w)))


def log_likelihood_gradient(
    params: BgNbdParams,
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,
    *,
    weights: npt.ArrayLike | None = None,
) -> FloatArray:
    """Analytic gradient of :func:`log_likelihood` with respect to the LOG-parameters.

    Returns ``[dLL/dlog r, dLL/dlog alpha, dLL/dlog a, dLL/dlog b]``; divide entry k by parameter k to get the
    gradient with respect to the parameters themselves.
    """
    p = _check_params(params)
    x, tx, t_age = _customer_columns(frequency, recency, T)
    w = _check_weights(weights, len(x))
    return _ll_and_gradient(p, _Customers.of(x, tx, t_age, w))[1]


# --------------------------------------------------------------------------------------------------
# Fitting


def _compress(x: FloatArray, tx: FloatArray, T: FloatArray, w: FloatArray) -> _Customers:
    """Distinct (x, t_x, T) rows with summed weights (the likelihood only depends on these)."""
    rows = np.column_stack([x, tx, T])
    unique, inverse = np.unique(rows, axis=0, return_inverse=True)
    summed = np.bincount(inverse.ravel(), weights=w, minlength=len(unique))
    keep = summed > 0
    unique, summed = unique[keep], summed[keep]
    return _Customers.of(unique[:, 0].copy(), unique[:, 1].copy(), unique[:, 2].copy(), summed.astype(np.float64))


def _start_points(c: _Customers) -> list[FloatArray]:
    # Gamma mean r/alpha ~ observed repeat rate per unit time; mean dropout probability a/(a+b) = 0.25.
    rate = float(c.w @ c.x) / max(float(c.w @ c.T), 1e-12)
    alpha0 = float(np.clip(1.0 / max(rate, 1e-6), 1e-2, 1e5))
    return [np.log([1.0, alpha0, 1.0, 3.0]), np.log([0.5, 1.0, 0.5, 1.0])]


def _params_at(theta: FloatArray) -> tuple[float, float, float, float]:
    r, alpha, a, b = (float(v) for v in np.exp(theta))
    return r, alpha, a, b


def _gradient_and_hessian(theta: FloatArray, c: _Customers) -> tuple[FloatArray, FloatArray]:
    """Mean log-likelihood's gradient and Hessian in log-parameters (central differences of the gradient)."""
    total = float(c.w.sum())
    grad = _ll_and_gradient(_params_at(theta), c)[1] / total
    step = 1e-4
    hess = np.empty((4, 4))
    for k in range(4):
        e = np.zeros(4)
        e[k] = step
        up = _ll_and_gradient(_params_at(theta + e), c)[1]
        down = _ll_and_gradient(_params_at(theta - e), c)[1]
        hess[:, k] = (up - down) / (2.0 * step * total)
    return grad, (hess + hess.T) / 2.0


def _newton_step(grad: FloatArray, hess: FloatArray) -> FloatArray | None:
    """Newton step towards the maximum, or None unless the Hessian is clearly negative definite."""
    if not (np.all(np.isfinite(hess)) and np.all(np.isfinite(grad))):
        return None
    if np.linalg.eigvalsh(hess).max() >= -_MIN_CURVATURE:
        return None
    return np.asarray(np.linalg.solve(hess, -grad), dtype=np.float64)


def _newton_polish(theta: FloatArray, c: _Customers) -> tuple[FloatArray, float, FloatArray, FloatArray]:
    """Safeguarded Newton steps from the L-BFGS-B optimum (the likelihood never decreases).

    Returns (theta, LL, gradient, Hessian), the derivatives being those of the mean LL at the returned theta.
    """
    ll = _ll_and_gradient(_params_at(theta), c)[0]
    grad, hess = _gradient_and_hessian(theta, c)
    for _ in range(3):
        step = _newton_step(grad, hess)
        if step is None or np.max(np.abs(step)) > 1e-2 or np.max(np.abs(step)) < 1e-12:
            break
        trial = np.clip(theta + step, _LOG_LOWER, _LOG_UPPER)
        trial_ll = _ll_and_gradient(_params_at(trial), c)[0]
        if not (np.isfinite(trial_ll) and trial_ll >= ll):
            break
        theta, ll = trial, trial_ll
        grad, hess = _gradient_and_hessian(theta, c)
    return theta, ll, grad, hess


def _convergence(
    theta: FloatArray, ll: float, grad: FloatArray, hess: FloatArray, why: str
) -> tuple[bool, float, str]:
    """(converged, max |mean-LL gradient|, message) at ``theta``; see :class:`BgNbdFit`."""
    gnorm = float(np.max(np.abs(grad)))
    at_bound = (theta - _LOG_LOWER < _AT_BOUND) | (_LOG_UPPER - theta < _AT_BOUND)
    if at_bound.any():
        names = ", ".join(n for n, hit in zip(("r", "alpha", "a", "b"), at_bound, strict=True) if hit)
        return False, gnorm, (f"no interior maximum: {names} at the search bound [1e-8, 1e8] "
                              "(the likelihood keeps increasing towards the boundary)")
    if not np.isfinite(ll) or gnorm >= _GRADIENT_TOLERANCE:
        return False, gnorm, f"optimiser stopped with gradient {gnorm:.2e} ({why})"
    step = _newton_step(grad, hess)
    if step is None or np.max(np.abs(step)) >= _NEWTON_TOLERANCE:
        return False, gnorm, ("no well-defined maximum: the likelihood is flat in some direction (parameters "
                              "not identified by these data, e.g. identical customers or no repeat buyers)")
    return True, gnorm, "converged"


def fit(
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,
    *,
    weights: npt.ArrayLike | None = None,
) -> BgNbdFit:
    """Maximum-likelihood BG/NBD fit.

    ``frequency``, ``recency`` and ``T`` are equal-length 1-D arrays, one entry per customer (see the module
    docstring); ``weights`` (optional, >= 0) multiply each customer's log-likelihood, e.g. counts of identical
    customers. Identical (x, t_x, T) rows are merged before optimising.

    Maximises over log-parameters with L-BFGS-B and the analytic gradient, bounded to [1e-8, 1e8] per
    parameter, so the returned parameters are always finite and positive and ``log_likelihood`` finite.
    Degenerate portfolios (one customer, all customers identical, nobody repeating) do not raise: they
    usually return ``converged=False`` because the likelihood's supremum lies on the boundary.

    Raises ValueError for: no customers ("no customers in the window"), arrays of different lengths,
    negative / non-finite values, non-integer frequency, recency > T, frequency > 0 with recency 0,
    frequency 0 with recency > 0, and invalid weights.
    """
    x_all, tx_all, t_all = _customer_columns(frequency, recency, T)
    w_all = _check_weights(weights, len(x_all))
    customers = _compress(x_all, tx_all, t_all, w_all)
    total = float(customers.w.sum())

    def objective(theta: FloatArray) -> tuple[float, FloatArray]:
        ll, grad = _ll_and_gradient(_params_at(theta), customers)
        if not np.isfinite(ll):  # only possible far outside sensible regions; steer the line search back
            return np.inf, np.zeros(4)
        return -ll / total, -grad / total

    best: tuple[bool, float, FloatArray, float, str] | None = None
    iterations = 0
    for start in _start_points(customers):
        res = minimize(
            objective,
            start,
            jac=True,
            method="L-BFGS-B",
            bounds=[(_LOG_LOWER, _LOG_UPPER)] * 4,
            options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 20},
        )
        iterations += int(res.nit)
        theta, ll, grad, hess = _newton_polish(np.clip(res.x, _LOG_LOWER, _LOG_UPPER), customers)
        converged, gnorm, message = _convergence(theta, ll, grad, hess, str(res.message))
        if best is None or (converged, ll) > (best[0], best[1]):
            best = (converged, ll, theta, gnorm, message)
        if converged:
            break
    assert best is not None
    converged, ll, theta, gnorm, message = best
    return BgNbdFit(
        params=BgNbdParams.from_log(theta),
        log_likelihood=float(ll),
        customers=len(x_all),
        converged=converged,
        total_weight=total,
        unique_rows=len(customers.x),
        iterations=iterations,
        gradient_norm=gnorm,
        message=message,
    )


# --------------------------------------------------------------------------------------------------
# Per-customer closed forms


def p_alive(
    params: BgNbdParams, frequency: npt.ArrayLike, recency: npt.ArrayLike, T: npt.ArrayLike
) -> FloatArray:
    """P(customer still alive at T | x, t_x, T) (Fader, Hardie & Lee, "Computing P(alive) using the BG/NBD
    model"): ``1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))``.

    Vectorised with numpy broadcasting; returns values in [0, 1] (0 only by underflow for extreme customers),
    exactly 1 where frequency is 0 (in the BG/NBD model a customer can only drop out right after a repeat
    transaction).
    """
    p = _check_params(params)
    x, tx, t_age = _broadcast_columns(frequency, recency, T)
    _check_customer_values(x, tx, t_age)
    d = _log_odds_dropped(p, x, tx, t_age)
    return expit(-d)


def _bridge(
    f: Callable[[float], FloatArray], centre: float, at: float, delta: float = _BRIDGE
) -> FloatArray:
    """``f(at)`` for ``at`` near ``centre`` by cubic interpolation through f(centre + k*delta), k = +-1, +-2.

    For a function that is smooth but cannot be evaluated accurately at or very near ``centre``; the
    interpolation error is O(delta^4) ~ 1e-12 relative.
    """
    nodes = centre + delta * np.array([-2.0, -1.0, 1.0, 2.0])
    total: FloatArray | float = 0.0
    for i, node in enumerate(nodes):
        weight = np.prod([(at - other) / (node - other) for j, other in enumerate(nodes) if j != i])
        total = total + weight * f(float(node))
    return np.asarray(total)


def _expected_if_alive(
    p: tuple[float, float, float, float], x: FloatArray, T: FloatArray, t: FloatArray
) -> FloatArray:
    """E[transactions in (T, T+t] | alive at T, x, T]: the numerator of eq. 10.

    Eq. 10 has ``((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)``, z = t/(alpha+T+t), whose factors
    over- and underflow for large x. Euler's transformation 2F1(A,B;C;z) = (1-z)^(C-A-B) 2F1(C-A,C-B;C;z)
    turns it into ``(1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)``, whose parameters do not grow with x.

    Three points need care: a = 1 is a removable singularity of ``(a+b+x-1)/(a-1) (1 - ...)``; so is
    a + b + x - 1 = 0 (x = 0, a + b = 1), a pole of 2F1 cancelled by the prefactor; and scipy's hyp2f1 is
    wrong (inf/nan or inaccurate) for z > 0.9 when C-A-B = x+r-a+1 is (nearly) an integer, i.e. when r - a
    is. Each is bridged by interpolation in a, b or r respectively (:func:`_bridge`).
    """
    r, alpha, a, b = p
    if a >= _LARGE_A:
        return _expected_if_alive_narrow_beta(p, x, T, t)
    z = t / (alpha + T + t)
    log_1_minus_z = -np.log1p(t / (alpha + T))

    def direct(r_: float, a_: float, b_: float) -> FloatArray:
        c = a_ + b_ + x - 1.0
        g = np.exp((a_ - 1.0) * log_1_minus_z) * hyp2f1(a_ + b_ - 1.0 - r_, a_ - 1.0, c, z)
        return c / (a_ - 1.0) * (1.0 - g)

    def safe_r(a_: float, b_: float) -> FloatArray:
        k = r - a_
        if abs(k - round(k)) < _NEAR_INTEGER:
            return _bridge(lambda r_: direct(r_, a_, b_), r, r)
        return direct(r, a_, b_)

    def safe_ra(b_: float) -> FloatArray:
        if abs(a - 1.0) < _NEAR_INTEGER:
            return _bridge(lambda a_: safe_r(a_, b_), 1.0, a)
        return safe_r(a, b_)

    if abs(a + b - 1.0) < _NEAR_INTEGER and np.any(x == 0):
        with np.errstate(invalid="ignore", divide="ignore"):  # the x = 0 entries of safe_ra(b) are replaced
            # 1.5 * _BRIDGE: when a is bridged too, its nodes and these never cancel in a + b - 1.
            return np.where(x == 0, _bridge(safe_ra, 1.0 - a, b, 1.5 * _BRIDGE), safe_ra(b))
    return safe_ra(b)


def _expected_if_alive_narrow_beta(
    p: tuple[float, float, float, float], x: FloatArray, T: FloatArray, t: FloatArray
) -> FloatArray:
    """The numerator of eq. 10 for a large ``a`` (>= _LARGE_A), where 2F1 cannot be evaluated.

    Given alive at T after x repeat transactions, the purchase rate is Gamma(r+x, alpha+T) and the dropout
    probability q is Beta(a, b+x), independently; given both, E[X(t)] = (1 - exp(-lambda q t)) / q, whose mean
    over the rate is f(q) = (1 - (1 + q t/(alpha+T))^-(r+x)) / q. Over q's narrow Beta this is
    f(mu) + f''(mu) var / 2 (the next terms are O(var^2)), f'' by a central difference at mu * 1e-3.
    """
    r, alpha, a, b = p
    shape = b + x
    n = a + shape
    mu = a / n
    var = a * shape / (n * n * (n + 1.0))
    k = r + x
    c = t / (alpha + T)

    def f(q: FloatArray) -> FloatArray:
        return np.asarray(-np.expm1(-k * np.log1p(c * q)) / q)

    h = 1e-3 * mu
    second = (f(mu + h) - 2.0 * f(mu) + f(mu - h)) / (h * h)
    return np.asarray(f(mu) + 0.5 * second * var)


def expected_transactions(
    params: BgNbdParams,
    t: npt.ArrayLike,
    frequency: npt.ArrayLike,
    recency: npt.ArrayLike,
    T: npt.ArrayLike,
) -> FloatArray:
    """E[number of transactions in (T, T+t] | x, t_x, T] (eq. 10 of the paper).

    ``t`` is the horizon in the same unit as ``T`` (>= 0). Vectorised with numpy broadcasting over all of
    ``t``, ``frequency``, ``recency`` and ``T``; the result is >= 0, 0 at t = 0, and non-decreasing in t.
    """
    p = _check_params(params)
    horizon, x, tx, t_age = _broadcast_columns(t, frequency, recency, T)
    _check_customer_values(x, tx, t_age)
    if not np.all(np.isfinite(horizon)) or np.any(horizon < 0):
        raise ValueError("t (the forecast horizon) must be finite and >= 0")
    d = _log_odds_dropped(p, x, tx, t_age)
    # The clip only removes rounding noise (~1e-16) at tiny horizons.
    return np.maximum(expit(-d) * _expected_if_alive(p, x, t_age, horizon), 0.0)


# --------------------------------------------------------------------------------------------------
# From transactions to (x, t_x, T)


def summarise_transactions(
    customer_ids: npt.ArrayLike,
    days: npt.ArrayLike,
    calibration_end: str | _dt.date | np.datetime64,
) -> tuple[np.ndarray, FloatArray, FloatArray, FloatArray]:
    """Per-customer (x, t_x, T) in weeks from a transaction log, as in the paper.

    ``customer_ids`` and ``days`` are parallel sequences, one entry per transaction; ``days`` are dates
    (``datetime.date``, ``numpy.datetime64``, or ISO strings; times of day are truncated to the day).
    Transactions are de-duplicated to one per customer-day; those after ``calibration_end`` are ignored.

    Returns ``(ids, frequency, recency, T)`` for every customer with a transaction on or before
    ``calibration_end``, ``ids`` sorted ascending:

    * time 0 is the customer's first purchase day;
    * frequency = number of distinct later days with a transaction, up to and including calibration_end;
    * recency = (last such day - first day) / 7, or 0 when frequency is 0;
    * T = (calibration_end - first day) / 7.

    With calibration_end 1997-09-30 this gives T = 38.86 weeks for a CDNOW customer who first bought on
    1997-01-01, as in Fader-Hardie's published CDNOW summary. Empty input gives empty arrays.
    """
    ids = np.asarray(customer_ids)
    try:
        day_values = np.asarray(days).astype("datetime64[D]")
        end = np.asarray(calibration_end).astype("datetime64[D]")[()]
    except (ValueError, TypeError) as exc:
        raise ValueError(f"days and calibration_end must be dates: {exc}") from None
    if ids.ndim != 1 or day_values.ndim != 1 or len(ids) != len(day_values):
        raise ValueError("customer_ids and days must be 1-D and of the same length, "
                         f"got shapes {ids.shape} and {day_values.shape}")
    if np.isnat(end) or np.any(np.isnat(day_values)):
        raise ValueError("days and calibration_end must not contain missing dates (NaT)")
    if len(ids) > 0 and np.any(ids != ids):  # NaN ids
        raise ValueError("customer_ids must not contain missing values")

    in_window = day_values <= end
    ids, day_values = ids[in_window], day_values[in_window]
    day_numbers = day_values.astype(np.int64)  # days since 1970-01-01
    unique_ids, codes = np.unique(ids, return_inverse=True)
    n = len(unique_ids)
    if n == 0:
        empty = np.zeros(0)
        return unique_ids, empty, empty.copy(), empty.copy()

    # One row per customer-day: sort by (customer, day), drop repeats.
    order = np.lexsort((day_numbers, codes))
    codes, day_numbers = codes[order], day_numbers[order]
    distinct = np.ones(len(codes), dtype=bool)
    distinct[1:] = (codes[1:] != codes[:-1]) | (day_numbers[1:] != day_numbers[:-1])
    codes, day_numbers = codes[distinct], day_numbers[distinct]

    first = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first, codes, day_numbers)
    last = np.full(n, np.iinfo(np.int64).min)
    np.maximum.at(last, codes, day_numbers)
    frequency = np.bincount(codes, minlength=n).astype(np.float64) - 1.0
    # Weeks = days / 7.
    recency = (last - first).astype(np.float64) / 7.0
    age = (end.astype(np.int64) - first).astype(np.float64) / 7.0
    return unique_ids, frequency, recency, age
