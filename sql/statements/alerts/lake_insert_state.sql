-- A pipeline's dedup/cooldown changes (the registered relation `alert_state_updates`) into the lake.
insert into lake.alert_state_log
select $group_id, $pipeline, $now::TIMESTAMP, source, subject, last_alert_id, last_fired_at, last_severity,
    suppressed, last_seen_at
from alert_state_updates;
