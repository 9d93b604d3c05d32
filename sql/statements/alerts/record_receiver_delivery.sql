-- The delivery outcome of one alert at one receiver so far.
insert or replace into alert_deliveries (alert_id, receiver, status, attempts, delivered_at, last_error)
values ($alert_id, $receiver, $status, $attempts, $delivered_at, $last_error);
