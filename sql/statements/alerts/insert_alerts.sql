-- New alerts from the registered relation `new_alerts` (payload as JSON text).
insert into alerts (alert_id, created_at, source, subject, severity, title, payload, delivery_status, attempts,
    delivered_at, last_error, summary_alert_id)
select alert_id, created_at, source, subject, severity, title, cast(payload as json), delivery_status, 0,
    null, last_error, summary_alert_id
from new_alerts
order by alert_id;
