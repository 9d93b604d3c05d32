-- The fit customers are scored with (see the churn_scoring_fit macro); no row: no converged fit yet.
select fit_id, fitted_at, as_of, window_start, window_end, r, alpha, a, b, log_likelihood, customers,
    converged, message, trigger, duration_ms
from churn_scoring_fit();
