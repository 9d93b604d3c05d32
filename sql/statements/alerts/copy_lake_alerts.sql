-- A reader's copy of the lake: the group's alerts and webhook outcomes (registered relations `lake_alerts`,
-- `lake_deliveries`) replace the copy's, so `customer-health alerts` and the dashboard read them as on a file.
delete from alert_deliveries;
delete from alerts;
insert into alerts (alert_id, created_at, source, subject, severity, title, payload, delivery_status, attempts,
    delivered_at, last_error, summary_alert_id)
select alert_id, created_at, source, subject, severity, title, cast(payload as json), delivery_status, attempts,
    delivered_at, last_error, summary_alert_id
from lake_alerts;
insert into alert_deliveries select alert_id, receiver, status, attempts, delivered_at, last_error from lake_deliveries;
