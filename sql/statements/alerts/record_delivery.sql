-- The webhook delivery outcome of one alert so far.
update alerts
set delivery_status = $status, attempts = $attempts, delivered_at = $delivered_at, last_error = $last_error
where alert_id = $alert_id;
