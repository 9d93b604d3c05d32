-- Store one fit; returns its fit_id.
insert into churn_model_fits
select nextval('churn_fit_ids'), $fitted_at, $as_of, $window_start, $window_end, $r, $alpha, $a, $b,
    $log_likelihood, $customers, $converged, $message, $trigger, $duration_ms
returning fit_id;
