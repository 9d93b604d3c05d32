-- A pipeline's new alerts (the registered relation `new_alerts`, as alerts/insert_alerts stored them) into the lake.
insert into lake.alert_log
select $group_id, $pipeline, $now::TIMESTAMP, alert_id, created_at, source, subject, severity, title, payload,
    delivery_status, summary_alert_id
from new_alerts;
