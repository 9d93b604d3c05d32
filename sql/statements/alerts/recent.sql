-- The newest alerts (the dashboard's list and `customer-health alerts`). Times UTC.
select alert_id, created_at, source, subject, severity, title, delivery_status, attempts, delivered_at,
    last_error, summary_alert_id, payload::varchar as payload
from alerts
order by alert_id desc
limit $limit;
