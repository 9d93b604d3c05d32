-- Alerts still queued for the webhook when the last pipeline stopped, created since $since (oldest first).
select alert_id, payload::varchar as payload, attempts
from alerts
where delivery_status = 'pending' and created_at >= $since
order by alert_id;
