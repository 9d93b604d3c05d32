-- The group's webhook outcomes per (alert, receiver) in the lake: the latest of each (alert_deliveries' columns).
select alert_id, receiver, status, attempts, delivered_at, last_error
from lake.alert_delivery_log
where group_id = $group_id
qualify row_number() over (partition by alert_id, receiver order by recorded_at desc, attempts desc) = 1;
