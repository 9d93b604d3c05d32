-- The group's alerts in the lake (alerts' columns), each with its latest recorded delivery status.
with latest_delivery as (
    select alert_id, alert_status, alert_attempts, alert_delivered_at, alert_last_error
    from lake.alert_delivery_log
    where group_id = $group_id
    qualify row_number() over (partition by alert_id order by recorded_at desc, alert_attempts desc) = 1
)
select a.alert_id, a.created_at, a.source, a.subject, a.severity, a.title, a.payload,
    coalesce(d.alert_status, a.delivery_status) as delivery_status, coalesce(d.alert_attempts, 0) as attempts,
    d.alert_delivered_at as delivered_at, d.alert_last_error as last_error, a.summary_alert_id
from lake.alert_log a
left join latest_delivery d using (alert_id)
where a.group_id = $group_id
qualify row_number() over (partition by a.alert_id order by a.recorded_at) = 1
order by a.alert_id;
