-- Stored fits, newest first (at most $limit).
select fit_id, fitted_at, as_of, window_start, window_end, r, alpha, a, b, log_likelihood, customers,
    converged, message, trigger, duration_ms
from churn_model_fits
order by fit_id desc
limit $limit;
