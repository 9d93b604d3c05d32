"""Benchmark: BG/NBD fit and scoring at 100k simulated customers.

Simulates customers from known parameters (CDNOW-like r, alpha, a, b; first purchases spread over 12 weeks,
calibration window of 52 weeks), fits the model, checks the parameters are recovered, and times the fit next
to scoring (p_alive + expected transactions over 39 weeks) of all customers. Prints figures only.

Run: ``.venv/bin/python bench/bgnbd_fit.py [--customers N] [--seed S]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

try:
    from customer_health.churn import bgnbd
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from customer_health.churn import bgnbd


def simulate(
    params: bgnbd.BgNbdParams, T: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(frequency, recency) drawn from the BG/NBD model for customers of ages T (weeks)."""
    n = len(T)
    lam = rng.gamma(params.r, 1.0 / params.alpha, n)  # alpha is a rate parameter
    p = rng.beta(params.a, params.b, n)
    purchases = rng.poisson(lam * T)  # purchases in (0, T] had the customer stayed alive
    dropout_after = rng.geometric(p)  # the customer drops out right after this repeat purchase
    x = np.minimum(purchases, dropout_after)
    # Given N(T) = n, purchase times are n uniform order statistics on (0, T): the x-th is T * Beta(x, n-x+1).
    t_x = np.zeros(n)
    has = x > 0
    t_x[has] = T[has] * rng.beta(x[has], purchases[has] - x[has] + 1)
    return x.astype(np.float64), t_x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2005)
    args = parser.parse_args()

    true = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
    rng = np.random.default_rng(args.seed)
    T_cont = 52.0 - rng.uniform(0.0, 12.0, args.customers)  # weeks
    x, t_x = simulate(true, T_cont, rng)
    # The same customers with times on a daily grid, as summarise_transactions produces them.
    T_day = np.round(T_cont * 7.0) / 7.0
    t_x_day = np.minimum(np.where(x > 0, np.maximum(np.round(t_x * 7.0), 1.0) / 7.0, 0.0), T_day)

    print(f"BG/NBD benchmark: {args.customers:,} simulated customers, true params {true}")
    print(f"  repeat buyers {np.mean(x > 0):.1%}, mean frequency {x.mean():.3f}")
    for label, rec, age in (("continuous times", t_x, T_cont), ("daily grid", t_x_day, T_day)):
        start = time.perf_counter()
        result = bgnbd.fit(x, rec, age)
        elapsed = time.perf_counter() - start
        p = result.params
        print(f"\n  fit ({label}): {elapsed:.3f} s, {result.unique_rows:,} distinct rows, "
              f"{result.iterations} iterations, converged={result.converged}")
        print(f"    fitted r={p.r:.4f} alpha={p.alpha:.4f} a={p.a:.4f} b={p.b:.4f}  "
              f"LL={result.log_likelihood:.1f}")
        rel = np.abs(p.as_array() / true.as_array() - 1.0)
        print("    relative error vs truth: "
              f"r {rel[0]:.1%}, alpha {rel[1]:.1%}, a {rel[2]:.1%}, b {rel[3]:.1%}")

    start = time.perf_counter()
    alive = bgnbd.p_alive(result.params, x, t_x_day, T_day)
    mid = time.perf_counter()
    expected = bgnbd.expected_transactions(result.params, 39.0, x, t_x_day, T_day)
    end = time.perf_counter()
    print(f"\n  scoring {args.customers:,} customers: p_alive {mid - start:.3f} s, "
          f"expected_transactions(39 weeks) {end - mid:.3f} s, total {end - start:.3f} s")
    print(f"    mean p_alive {alive.mean():.3f}, "
          f"total expected transactions next 39 weeks {expected.sum():,.0f}")


if __name__ == "__main__":
    main()
