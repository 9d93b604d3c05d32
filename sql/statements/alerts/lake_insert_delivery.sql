-- One webhook outcome of alert $alert_id at $receiver, with the alert's status it gave (the local row of alerts).
insert into lake.alert_delivery_log
select $group_id, $pipeline, $now::TIMESTAMP, $alert_id, $receiver, $status, $attempts, $delivered_at::TIMESTAMP,
    $last_error::VARCHAR, delivery_status, attempts, delivered_at, last_error
from local_alert;
