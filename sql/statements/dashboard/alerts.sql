-- The newest alerts, optionally of one severity (null: all). Times UTC.
select
    alert_id,
    created_at,
    severity,
    source,
    subject,
    title,
    delivery_status,
    attempts,
    delivered_at,
    last_error
from alerts
where $severity is null or severity = $severity
order by alert_id desc
limit $limit;
