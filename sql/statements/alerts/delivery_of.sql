-- The delivery status of the alerts $alert_ids, by id.
select alert_id, delivery_status
from alerts
where list_contains($alert_ids, alert_id)
order by alert_id;
