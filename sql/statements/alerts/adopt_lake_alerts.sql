-- store = "ducklake": alerts a gone pipeline left pending, which this pipeline delivers from now on (the
-- registered relation `adopted`, alerts/lake_undelivered's columns), with their receivers' latest outcomes
-- (`adopted_deliveries`, alerts/lake_deliveries' columns), so that their outcomes are recorded as its own.
insert or ignore into alerts (alert_id, created_at, source, subject, severity, title, payload, delivery_status,
    attempts, delivered_at, last_error, summary_alert_id)
select alert_id, created_at, source, subject, severity, title, cast(payload as json), 'pending', 0, null, null,
    summary_alert_id
from adopted;
insert or replace into alert_deliveries (alert_id, receiver, status, attempts, delivered_at, last_error)
select d.alert_id, d.receiver, d.status, d.attempts, d.delivered_at, d.last_error
from adopted_deliveries d
semi join adopted a on a.alert_id = d.alert_id;
