"""Silent churn in the product: BG/NBD fits stored in DuckDB, per-customer scores kept live by the pipeline.

- Transactions are succeeded charges, one per customer and UTC day (of ``occurred_at``); time is in weeks
  from each customer's first transaction day. ``churn_days`` holds them (customer, day, amount), maintained
  batch by batch (:func:`rollup_batch`), so neither fitting nor scoring rescans ``payments``.
- :func:`fit_model` fits the model on every customer's transactions up to and including the UTC day of
  ``as_of`` (the calibration window) and stores the fit, converged or not, in ``churn_model_fits``.
- :func:`score_customers` updates ``customer_churn`` from the latest converged fit (closed forms: P(alive),
  expected transactions in the next 30 and 90 days, expected 90-day value) and records customers who used
  to be valuable and whose P(alive) fell below ``churn.alert_p_alive_below`` in ``churn_fading``.
- :class:`ChurnPipelineHooks` plugs both into the pipeline: ``after_land`` keeps the rollup and the scores
  of the customers a batch touched up to date (everyone at a new fit and at each new UTC day), ``on_tick``
  refits every ``churn.refit_interval_hours`` (sooner when the customers grew by ``churn.refit_growth``)
  on a background thread.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from customer_health import sqlfiles
from customer_health.churn import bgnbd
from customer_health.churn.bgnbd import _expected_if_alive  # E[transactions | alive]: the value at risk
from customer_health.clock import utc_now
from customer_health.config import Settings
from customer_health.errors import UserError
from ingest.landing import BatchContext
from ingest.plugins import PipelineExtensions, Plugin

log = logging.getLogger(__name__)

WEEK_DAYS = 7.0
HORIZON_30D_WEEKS = 30 / WEEK_DAYS
HORIZON_90D_WEEKS = 90 / WEEK_DAYS


class EmptyWindowError(UserError):
    """No customer has a transaction in the calibration window: there is nothing to fit."""


@dataclass(frozen=True)
class StoredFit:
    """One row of ``churn_model_fits``."""

    fit_id: int
    fitted_at: datetime
    as_of: datetime
    window_start: date
    window_end: date
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    customers: int
    converged: bool
    message: str
    trigger: str
    duration_ms: float

    @property
    def params(self) -> bgnbd.BgNbdParams:
        return bgnbd.BgNbdParams(self.r, self.alpha, self.a, self.b)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Summaries:
    """Per-customer BG/NBD summaries as of one instant (parallel arrays, customers in id order)."""

    customer_id: np.ndarray
    frequency: np.ndarray
    recency_weeks: np.ndarray
    age_weeks: np.ndarray
    transactions: np.ndarray
    lifetime_value: np.ndarray  # NaN: no priced charge
    avg_charge: np.ndarray  # NaN: no priced charge
    first_day: np.ndarray

    def __len__(self) -> int:
        return len(self.customer_id)


@dataclass(frozen=True)
class ScoreResult:
    customers: int
    fading: int  # customers newly recorded as silently fading
    fit_id: int | None  # None: no converged fit yet, nothing scored
    duration_ms: float


def fx_params(settings: Settings) -> dict[str, Any]:
    """The exchange rates as the ``$fx_currencies`` / ``$fx_rates`` parameters of the churn statements."""
    return {
        "fx_currencies": list(settings.health.fx_rates),
        "fx_rates": [float(v) for v in settings.health.fx_rates.values()],
    }


# --------------------------------------------------------------------------------------------------
# The transaction rollup


def rollup_batch(con: duckdb.DuckDBPyConnection, settings: Settings, batch_id: int) -> None:
    """Add the succeeded charges landed by ``batch_id`` to ``churn_days`` (in the caller's transaction)."""
    sqlfiles.Statements(con).run("churn/rollup_batch", {"batch_id": batch_id, **fx_params(settings)})


def rebuild_transactions(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Rebuild ``churn_days`` from every landed succeeded charge."""
    sql = sqlfiles.Statements(con)
    sql.run("churn/clear_transactions")
    sql.run("churn/rebuild_transactions", fx_params(settings))


def ensure_transactions(con: duckdb.DuckDBPyConnection, settings: Settings) -> bool:
    """Rebuild the rollup when charges were landed but the rollup is empty; True when it rebuilt."""
    if not sqlfiles.Statements(con).row("churn/transactions_missing")[0]:
        return False
    log.info("churn: building the transaction rollup from the landed payments")
    with sqlfiles.transaction(con):
        rebuild_transactions(con, settings)
    return True


# --------------------------------------------------------------------------------------------------
# Fitting


def load_summaries(sql: sqlfiles.Statements, as_of: datetime, customer_ids: Sequence[str] | None = None) -> Summaries:
    """Every customer's (or the given customers') summary as of ``as_of`` (UTC)."""
    table = sql.run("churn/customer_summaries", {
        "as_of": as_of, "customer_ids": list(customer_ids) if customer_ids is not None else None,
    }).fetch_arrow_table()

    def column(name: str, dtype: Any = np.float64) -> np.ndarray:
        if dtype is object:
            return np.array(table.column(name).to_pylist(), dtype=object)
        return table.column(name).to_numpy(zero_copy_only=False).astype(dtype)

    return Summaries(
        customer_id=column("customer_id", object),
        frequency=column("frequency"),
        recency_weeks=column("recency_weeks"),
        age_weeks=column("age_weeks"),
        transactions=column("transactions", np.int64),
        lifetime_value=column("lifetime_value"),
        avg_charge=column("avg_charge"),
        first_day=column("first_day", object),
    )


def fit_model(
    sql: sqlfiles.Statements, as_of: datetime, *, trigger: str = "manual", now: datetime | None = None
) -> StoredFit:
    """Fit BG/NBD on every customer's transactions up to the UTC day of ``as_of`` and store the fit.

    Every fit is stored, converged or not (``converged``/``message`` say which). Raises
    :class:`EmptyWindowError` when no customer has a transaction in the window; nothing is stored then.
    """
    started = time.perf_counter()
    summaries = load_summaries(sql, as_of)
    if len(summaries) == 0:
        raise EmptyWindowError(
            f"no succeeded charge on or before {as_of.date().isoformat()} (UTC): the calibration window is "
            "empty, nothing to fit. Load or ingest payments first, or choose a later --as-of"
        )
    result = bgnbd.fit(summaries.frequency, summaries.recency_weeks, summaries.age_weeks)
    duration_ms = (time.perf_counter() - started) * 1000
    p = result.params
    row = {
        "fitted_at": now or utc_now(), "as_of": as_of, "window_start": min(summaries.first_day),
        "window_end": as_of.date(), "r": p.r, "alpha": p.alpha, "a": p.a, "b": p.b,
        "log_likelihood": result.log_likelihood, "customers": result.customers, "converged": result.converged,
        "message": result.message, "trigger": trigger, "duration_ms": duration_ms,
    }
    fit_id = int(sql.row("churn/insert_fit", row)[0])
    return StoredFit(fit_id=fit_id, **row)


def _stored_fit(row: tuple[Any, ...] | None) -> StoredFit | None:
    if row is None:
        return None
    (fit_id, fitted_at, as_of, window_start, window_end, r, alpha, a, b, ll, customers, converged, message, trigger,
     duration_ms) = row
    return StoredFit(int(fit_id), fitted_at, as_of, window_start, window_end, float(r), float(alpha), float(a),
                     float(b), float(ll), int(customers), bool(converged), message, trigger, float(duration_ms))


def scoring_fit(sql: sqlfiles.Statements) -> StoredFit | None:
    """The fit customers are scored with: the converged fit with the latest ``as_of``; None when none."""
    return _stored_fit(sql.run("churn/scoring_fit", None).fetchone())


def stored_fits(sql: sqlfiles.Statements, limit: int = 20) -> list[StoredFit]:
    """The newest stored fits first."""
    return [f for f in (_stored_fit(row) for row in sql.run("churn/fits", {"limit": limit}).fetchall()) if f]


# --------------------------------------------------------------------------------------------------
# Scoring


def score_summaries(params: bgnbd.BgNbdParams, s: Summaries) -> dict[str, np.ndarray]:
    """The closed forms for each customer of ``s``: p_alive, expected transactions and value (vectorised)."""
    x, tx, age = s.frequency, s.recency_weeks, s.age_weeks
    p_alive = bgnbd.p_alive(params, x, tx, age)
    expected_30 = bgnbd.expected_transactions(params, HORIZON_30D_WEEKS, x, tx, age)
    expected_90 = bgnbd.expected_transactions(params, HORIZON_90D_WEEKS, x, tx, age)
    if_alive_90 = np.maximum(_expected_if_alive(
        (params.r, params.alpha, params.a, params.b), x, age, np.full_like(age, HORIZON_90D_WEEKS)), 0.0)
    return {
        "p_alive": p_alive,
        "expected_tx_30d": expected_30,
        "expected_tx_90d": expected_90,
        "expected_value_90d": expected_90 * s.avg_charge,
        "value_at_risk_90d": (1.0 - p_alive) * if_alive_90 * s.avg_charge,
    }


CUSTOMER_FIGURES: tuple[str, ...] = (
    "p_alive", "expected_tx_30d", "expected_tx_90d", "expected_value_90d", "value_at_risk_90d", "churn_fit_id",
)


def customer_figures(sql: sqlfiles.Statements, customer_id: str, as_of: datetime) -> dict[str, Any]:
    """One customer's silent-churn figures at ``as_of`` (CUSTOMER_FIGURES), from the scoring fit.

    Computed on the spot from the customer's transactions up to as_of's UTC day (cheap: closed forms), so
    they are the same with or without a pipeline and at any ``as_of``; between the pipeline's scorings they
    equal the stored ``customer_churn`` row. All None without a transaction by then or without a fit.
    """
    figures: dict[str, Any] = dict.fromkeys(CUSTOMER_FIGURES)
    fit = scoring_fit(sql)
    summaries = load_summaries(sql, as_of, [customer_id])
    if fit is None or len(summaries) == 0:
        return figures
    scores = score_summaries(fit.params, summaries)
    for key in CUSTOMER_FIGURES[:-1]:
        value = float(scores[key][0])
        figures[key] = value if np.isfinite(value) else None
    figures["churn_fit_id"] = fit.fit_id
    return figures


def score_customers(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    customer_ids: Sequence[str] | None,
    as_of: datetime,
    *,
    batch_id: int | None = None,
    fit: StoredFit | None = None,
    now: datetime | None = None,
) -> ScoreResult:
    """Update ``customer_churn`` for ``customer_ids`` (None: everyone) as of ``as_of`` from a stored fit.

    Uses ``fit`` or else the latest converged fit (:func:`scoring_fit`); without one nothing is scored
    (``fit_id`` None). Cheap: closed forms on the stored parameters, no optimisation. Customers without a
    transaction up to ``as_of`` get no row (a full scoring removes their old one). Customers who used to be
    valuable and fall below ``churn.alert_p_alive_below`` are appended to ``churn_fading`` (``batch_id``
    says which batch's scoring found them). Runs in the caller's transaction, if any.
    """
    started = time.perf_counter()
    sql = sqlfiles.Statements(con)
    fit = fit or scoring_fit(sql)
    if fit is None:
        return ScoreResult(0, 0, None, 0.0)
    if customer_ids is not None and len(customer_ids) == 0:
        return ScoreResult(0, 0, fit.fit_id, 0.0)
    summaries = load_summaries(sql, as_of, customer_ids)
    scores = score_summaries(fit.params, summaries)
    frame = pa.table({
        "customer_id": pa.array(summaries.customer_id, pa.string()),
        "frequency": pa.array(summaries.frequency.astype(np.int64), pa.int64()),
        "recency_weeks": summaries.recency_weeks,
        "age_weeks": summaries.age_weeks,
        "transactions": pa.array(summaries.transactions, pa.int64()),
        "lifetime_value": pa.array(summaries.lifetime_value, pa.float64(), from_pandas=True),
        "avg_charge": pa.array(summaries.avg_charge, pa.float64(), from_pandas=True),
        **{k: pa.array(v, pa.float64(), from_pandas=True) for k, v in scores.items()},
    })
    churn = settings.churn
    params = {
        "as_of": as_of, "fit_id": fit.fit_id, "scored_at": now or utc_now(), "batch_id": batch_id,
        "threshold": churn.alert_p_alive_below, "valuable_min_transactions": churn.valuable_min_transactions,
        "valuable_min_lifetime_value": churn.valuable_min_lifetime_value,
    }
    # A table created once and refilled, not a registered relation: registering one per batch would change
    # the catalog and make DuckDB plan the pipeline's prepared statements again (sqlfiles.Statements).
    # Emptied again in the caller's transaction: rows committed to a temporary table and deleted by a later
    # transaction would stay in memory for good.
    sql.run("churn/scores_table")
    con.from_arrow(frame).insert_into("temp.churn_scores")
    try:
        fading = int(sql.row("churn/record_fading", params)[0])
        sql.run("churn/delete_scores")
        sql.run("churn/insert_scores", params)
        if customer_ids is None:
            sql.run("churn/drop_unscored")
    finally:
        with contextlib.suppress(duckdb.Error):  # an aborted transaction: its rollback empties it
            con.execute("delete from temp.churn_scores")
    duration_ms = (time.perf_counter() - started) * 1000
    return ScoreResult(len(summaries), fading, fit.fit_id, duration_ms)


# --------------------------------------------------------------------------------------------------
# The pipeline


class ChurnPipelineHooks:
    """The churn model inside the pipeline (and ``load``), on the owner connection.

    ``after_land`` (in each batch's transaction): add the batch's charges to the rollup, then score the
    customers it touched as of the batch time; everyone instead when a newer fit is there to score with
    (the schedule's or one stored by ``churn-model fit`` over Quack) or the UTC day changed (p_alive decays
    with time alone). ``on_tick``: when a refit is due (:meth:`refit_due`, checked every
    ``churn.check_interval_s``), fit on a background thread that only reads the data and appends the fit;
    scores move to it at the next batch. An empty window is retried once new charges have landed.
    """

    def __init__(
        self, con: duckdb.DuckDBPyConnection, settings: Settings, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.con = con
        self.settings = settings
        self.clock = clock
        self._scored_fit_id: int | None = None
        self._scored_day: date | None = None
        self._fit_thread: threading.Thread | None = None
        self._next_check = 0.0
        self._waiting_for_data = False
        ensure_transactions(con, settings)

    # --- after_land -------------------------------------------------------------------------------------

    def after_land(self, con: duckdb.DuckDBPyConnection, ctx: BatchContext) -> int:
        """Keep the rollup and the scores current; returns the customers scored."""
        rollup_batch(con, self.settings, ctx.batch_id)
        touched = [row[0] for row in sqlfiles.Statements(con).run("churn/touched_customers", {"batch_id": ctx.batch_id})
                   .fetchall()]
        if touched and self._waiting_for_data:
            self._waiting_for_data = False
            self._next_check = 0.0  # the first charges: fit at the next tick
        fit = scoring_fit(sqlfiles.Statements(con))
        if fit is None:
            return 0
        everyone = fit.fit_id != self._scored_fit_id or ctx.now.date() != self._scored_day
        result = score_customers(con, self.settings, None if everyone else touched, ctx.now,
                                 batch_id=ctx.batch_id, fit=fit, now=ctx.now)
        if everyone:
            self._scored_fit_id, self._scored_day = fit.fit_id, ctx.now.date()
            log.info("churn: scored all %d customers with fit #%d in %.0f ms (%d newly fading)",
                     result.customers, fit.fit_id, result.duration_ms, result.fading)
        return result.customers

    # --- on_tick: the refit schedule --------------------------------------------------------------------

    def on_tick(self) -> None:
        """Start a refit on a background thread when one is due (cheap otherwise)."""
        if self._fit_thread is not None:
            if self._fit_thread.is_alive():
                return
            self._fit_thread = None
        now_s = time.monotonic()
        if now_s < self._next_check:
            return
        self._next_check = now_s + self.settings.churn.check_interval_s
        if self._waiting_for_data or not self.refit_due(self.clock()):
            return
        self._fit_thread = threading.Thread(target=self._refit, name="churn-refit", daemon=True)
        self._fit_thread.start()

    def refit_due(self, now: datetime) -> bool:
        """No fit yet, the last one older than churn.refit_interval_hours, or the customers with a purchase
        grew by more than churn.refit_growth since it."""
        churn = self.settings.churn
        with self.con.cursor() as cur:
            last_at, last_customers, customers = sqlfiles.Statements(cur).row("churn/refit_status")
        return (last_at is None or now - last_at >= timedelta(hours=churn.refit_interval_hours)
                or customers > last_customers * (1 + churn.refit_growth))

    def refit(self) -> StoredFit | None:
        """Fit as of now on a cursor of its own and store the fit (None: the window was empty)."""
        now = self.clock()
        with self.con.cursor() as cur:
            try:
                fit = fit_model(sqlfiles.Statements(cur), now, trigger="schedule", now=now)
            except EmptyWindowError:
                self._waiting_for_data = True
                log.info("churn: no succeeded charge landed yet; the model is fitted once there is one")
                return None
        log.info("churn: fit #%d on %d customers in %.0f ms: r=%.4g alpha=%.4g a=%.4g b=%.4g LL=%.1f%s",
                 fit.fit_id, fit.customers, fit.duration_ms, fit.r, fit.alpha, fit.a, fit.b, fit.log_likelihood,
                 "" if fit.converged else f" (not converged: {fit.message}; scores keep the previous fit)")
        return fit

    def _refit(self) -> None:
        try:
            self.refit()
        except Exception:  # logged; the schedule tries again at its next check
            log.exception("churn: scheduled refit failed")

    def stop(self, timeout: float = 30.0) -> None:
        """Wait for a running refit (its cursor must close before the database does)."""
        if self._fit_thread is not None:
            self._fit_thread.join(timeout)
            self._fit_thread = None


def install(con: duckdb.DuckDBPyConnection, settings: Settings) -> PipelineExtensions:
    """The churn hooks on the owner connection of the pipeline (and of ``load``)."""
    hooks = ChurnPipelineHooks(con, settings)
    return PipelineExtensions(after_land=[hooks.after_land], on_tick=[hooks.on_tick], on_stop=[hooks.stop])


PLUGIN = Plugin(
    name="churn",
    reads=frozenset({"payments", "customers", "ingest_batches"}),
    writes=frozenset({"churn_days", "churn_model_fits", "customer_churn", "churn_fading"}),
    install=install,
)
