"""Does the health model predict? A backtest at a past instant T over the horizon (T, T+H].

The score, components and segments at T come from the point-in-time evaluation (the SQL of
``customers --as-of``); the outcomes from the landed events (``sql/statements/backtest/``). The churn
model is fitted on the whole UTC days before T only and its expected transactions are compared with the
actual ones (days with a succeeded charge) in the H days after (Fader, Hardie & Lee's conditional
expectation check, by frequency in the calibration window). Read-only: nothing is stored. Used by the
``backtest`` command and the dashboard's model-quality section (never imports streamlit).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from customer_health.churn import bgnbd
from customer_health.churn.model import WEEK_DAYS, load_summaries
from customer_health.config import HealthSettings
from customer_health.errors import UserError
from customer_health.health.params import COMPONENTS, health_params
from customer_health.jsonsafe import jsonable
from customer_health.sqlfiles import Statements

MIN_HORIZON_DAYS = 31  # the silence test looks at the horizon's last 30 days: a shorter one would test nothing
# Frequencies (repeat transactions in the calibration window) grouped in the model check; the last is "and more".
FREQUENCY_GROUPS = 8
# Share of the customers (by a hash of their id) the suggested weights are fitted on; the rest tests them.
TRAIN_SHARE = 0.7


def auc(risk_scores: Sequence[float] | np.ndarray, positives: Sequence[bool] | np.ndarray) -> float | None:
    """Mann-Whitney AUC: P(a positive's score is below a negative's), ties counted half.

    ``risk_scores`` are health scores (lower = likelier positive). None without a positive or a negative.
    """
    s = np.asarray(risk_scores, dtype=float)
    y = np.asarray(positives, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = pd.Series(-s).rank(method="average").to_numpy()  # higher rank = lower score = riskier
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def roc_points(scores: np.ndarray, positives: np.ndarray) -> list[dict[str, float | None]]:
    """The ROC curve of flagging ``score <= threshold``, one point per distinct score, from (0, 0) to (1, 1)."""
    y = np.asarray(positives, dtype=bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return []
    frame = pd.DataFrame({"score": scores, "pos": y.astype(int), "neg": (~y).astype(int)})
    by = frame.groupby("score", sort=True)[["pos", "neg"]].sum().cumsum()
    points: list[dict[str, float | None]] = [{"threshold": None, "false_positive_rate": 0.0, "true_positive_rate": 0.0}]
    points += [{"threshold": float(t), "false_positive_rate": float(r.neg / n_neg),
                "true_positive_rate": float(r.pos / n_pos)} for t, r in by.iterrows()]
    return points


def flag_quality(flagged: np.ndarray, actual: np.ndarray) -> dict[str, Any]:
    """Precision, recall and lift (precision over the base rate) of a flag against an outcome."""
    flagged, actual = np.asarray(flagged, dtype=bool), np.asarray(actual, dtype=bool)
    hits = int((flagged & actual).sum())
    base = float(actual.mean()) if len(actual) else None
    precision = hits / int(flagged.sum()) if flagged.any() else None
    return {
        "flagged": int(flagged.sum()),
        "flagged_and_happened": hits,
        "precision": precision,
        "recall": hits / int(actual.sum()) if actual.any() else None,
        "lift": precision / base if precision is not None and base else None,
    }


def weighted_score(components: np.ndarray, weights: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """The health score of component rows (columns in COMPONENTS order): their weighted mean times each row's
    fading factor (as the mart computes it, unrounded)."""
    return components @ weights / weights.sum() * factor


def _in_train(customer_id: str) -> bool:
    digest = hashlib.sha256(customer_id.encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < TRAIN_SHARE


def suggest_weights(
    customer_ids: Sequence[str], components: np.ndarray, factor: np.ndarray, churned: np.ndarray,
    current: np.ndarray,
) -> dict[str, Any]:
    """Component weights (on the simplex) that maximise the churn AUC on a training share of the customers
    (split by a hash of the id), by coordinate search: move weight between two components while the
    training AUC improves, in shrinking steps. Returns them with the AUC on the held-out customers, next to
    the current weights' AUC on the same customers. Suggested only: nothing is applied."""
    train = np.array([_in_train(c) for c in customer_ids], dtype=bool)
    churned = np.asarray(churned, dtype=bool)

    def train_auc(w: np.ndarray) -> float:
        return auc(weighted_score(components[train], w, factor[train]), churned[train]) or 0.0

    weights = current / current.sum()
    best = train_auc(weights)
    for step in (0.2, 0.1, 0.05, 0.02, 0.01):
        improved = True
        while improved:
            improved = False
            for i in range(len(weights)):
                for j in range(len(weights)):
                    if i == j or weights[j] < step - 1e-12:
                        continue
                    trial = weights.copy()
                    trial[i] += step
                    trial[j] -= step
                    value = train_auc(trial)
                    if value > best + 1e-9:
                        weights, best, improved = trial, value, True
    test = ~train
    return {
        "method": "coordinate search over the simplex, maximising the training churn AUC",
        "train_customers": int(train.sum()),
        "test_customers": int(test.sum()),
        "weights": {name: round(float(w), 4) + 0.0 for name, w in zip(COMPONENTS, weights, strict=True)},
        "train_auc": best,
        "test_auc": auc(weighted_score(components[test], weights, factor[test]), churned[test]),
        "current_weights_test_auc": auc(weighted_score(components[test], current, factor[test]), churned[test]),
        "applied": False,
    }


class NothingLandedError(UserError):
    """No event has landed: there is nothing to backtest."""


@dataclass(frozen=True)
class BacktestWindow:
    as_of: datetime
    horizon_days: int

    @property
    def horizon_end(self) -> datetime:
        return self.as_of + timedelta(days=self.horizon_days)


def check_window(db: Statements, as_of: datetime | None, horizon_days: int) -> BacktestWindow:
    """The backtest's window, or a UserError: H >= 31 days, and H days of data after T (default T: the
    latest event time minus H days)."""
    if horizon_days < MIN_HORIZON_DAYS:
        raise UserError(f"--horizon-days {horizon_days} is too short: use at least {MIN_HORIZON_DAYS} days "
                        "(silence is judged on the horizon's last 30 days)")
    data_end = db.value("backtest/data_end")
    if data_end is None:
        raise NothingLandedError("no events have landed: nothing to backtest (run `customer-health load` first)")
    if as_of is None:
        as_of = (data_end - timedelta(days=horizon_days)).replace(microsecond=0)
    window = BacktestWindow(as_of, horizon_days)
    if window.horizon_end > data_end:
        latest = data_end - timedelta(days=horizon_days)
        raise UserError(
            f"--as-of {as_of:%Y-%m-%d %H:%M:%S} UTC leaves less than {horizon_days} days of data after it (the "
            f"latest event is at {data_end:%Y-%m-%d %H:%M:%S} UTC): use --as-of {latest:%Y-%m-%d %H:%M:%S} or "
            "earlier, or a shorter --horizon-days")
    return window


def outcomes(db: Statements, health: HealthSettings, window: BacktestWindow) -> pd.DataFrame:
    """One row per customer known and not churned at T: health_score, segment, the components, and
    active_before, cancelled, silent, margin_horizon (see sql/statements/backtest/outcomes.sql)."""
    return db.df("backtest/outcomes", {
        "params": health_params(health), "as_of": window.as_of, "horizon_end": window.horizon_end,
    })


def churn_section(frame: pd.DataFrame) -> tuple[dict[str, Any], pd.DataFrame]:
    """Churn within the horizon among the customers active before T: AUCs, at_risk's quality, ROC."""
    active = frame[frame["active_before"]]
    cancelled = active["cancelled"].to_numpy(bool)
    silent = active["silent"].to_numpy(bool) & ~cancelled
    churned = cancelled | silent
    score = active["health_score"].to_numpy(float)
    stayed = ~churned
    section = {
        "customers": len(active),
        "churned": int(churned.sum()),
        "cancelled": int(cancelled.sum()),
        "silent": int(silent.sum()),
        "churn_rate": float(churned.mean()) if len(active) else None,
        # the active customers with a usual visit rate at T: the others' fading is invisible to the score
        "with_baseline": int(active["has_baseline"].sum()),
        "churn_auc": auc(score, churned),
        "churn_auc_cancelled": auc(score[cancelled | stayed], cancelled[cancelled | stayed]),
        "churn_auc_silent": auc(score[silent | stayed], silent[silent | stayed]),
        "at_risk": flag_quality(active["segment"].eq("at_risk").to_numpy(), churned),
        "roc": roc_points(score, churned),
    }
    return section, active.assign(churned=churned)


def unprofitability_section(frame: pd.DataFrame) -> dict[str, Any]:
    """Margin over the horizon below zero, against the unprofitable segment at T (every customer of the
    backtest)."""
    actual = frame["margin_horizon"].to_numpy(float) < 0
    return {
        "customers": len(frame),
        "unprofitable": int(actual.sum()),
        **flag_quality(frame["segment"].eq("unprofitable").to_numpy(), actual),
    }


def churn_model_section(db: Statements, window: BacktestWindow, customer_ids: Sequence[str]) -> dict[str, Any]:
    """BG/NBD fitted on the whole UTC days before T; expected against actual transactions in the H days
    after them, in total and by frequency in the calibration window, for ``customer_ids`` (those with a
    transaction in the calibration window)."""
    calibration_end = (window.as_of - timedelta(days=1)).date()  # the last whole UTC day before T
    everyone = load_summaries(db, datetime.combine(calibration_end, datetime.min.time()))
    if len(everyone) == 0:
        return {"calibration_end": calibration_end, "fit": None, "customers": 0, "expected_transactions": None,
                "actual_transactions": None, "by_frequency": []}
    result = bgnbd.fit(everyone.frequency, everyone.recency_weeks, everyone.age_weeks)
    wanted = set(customer_ids)
    keep = np.array([c in wanted for c in everyone.customer_id], dtype=bool)
    ids = [str(c) for c in everyone.customer_id[keep]]
    x, tx, age = everyone.frequency[keep], everyone.recency_weeks[keep], everyone.age_weeks[keep]
    expected = bgnbd.expected_transactions(result.params, window.horizon_days / WEEK_DAYS, x, tx, age)
    horizon_last_day = calibration_end + timedelta(days=window.horizon_days)
    actual_by_id = dict(db.rows("backtest/transactions", {
        "calibration_end": calibration_end, "horizon_last_day": horizon_last_day, "customer_ids": ids,
    }))
    actual = np.array([actual_by_id.get(c, 0) for c in ids], dtype=float)
    groups = np.minimum(x.astype(int), FREQUENCY_GROUPS - 1)
    by_frequency = []
    for g in range(FREQUENCY_GROUPS):
        members = groups == g
        if members.any():
            by_frequency.append({
                "frequency": f"{g}+" if g == FREQUENCY_GROUPS - 1 else str(g),
                "customers": int(members.sum()),
                "expected_transactions": float(expected[members].mean()),
                "actual_transactions": float(actual[members].mean()),
            })
    p = result.params
    return {
        "calibration_end": calibration_end,
        "horizon_last_day": horizon_last_day,
        "fit": {"r": p.r, "alpha": p.alpha, "a": p.a, "b": p.b, "customers": result.customers,
                "converged": result.converged, "log_likelihood": result.log_likelihood},
        "customers": len(ids),
        "expected_transactions": float(expected.sum()),
        "actual_transactions": float(actual.sum()),
        "by_frequency": by_frequency,
    }


def backtest(
    db: Statements, health: HealthSettings, as_of: datetime | None, horizon_days: int, *,
    with_weights: bool = False,
) -> dict[str, Any]:
    """The backtest document (``customer-health backtest --json``) with the [health] settings ``health``;
    JSON-safe values."""
    window = check_window(db, as_of, horizon_days)
    frame = outcomes(db, health, window)
    churn, active = churn_section(frame)
    document: dict[str, Any] = {
        "as_of": window.as_of,
        "horizon_days": window.horizon_days,
        "horizon_end": window.horizon_end,
        "customers": len(frame),
        "churn": churn,
        "unprofitability": unprofitability_section(frame),
        "churn_model": churn_model_section(db, window, frame["customer_id"].tolist()),
    }
    if with_weights:
        document["suggested_weights"] = suggest_weights(
            active["customer_id"].tolist(), active[list(COMPONENTS)].to_numpy(float),
            active["fading_factor"].fillna(1.0).to_numpy(float), active["churned"].to_numpy(bool),
            current_weights(health))
    return jsonable(document)


def current_weights(health: HealthSettings) -> np.ndarray:
    """The configured component weights, in COMPONENTS order."""
    weights: Mapping[str, float] = health.weights.model_dump()
    return np.array([float(weights[c]) for c in COMPONENTS])
