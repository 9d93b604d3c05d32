-- Dedup/cooldown state per (source, subject) from the registered relation `alert_state_updates`.
insert or replace into alert_state
select source, subject, last_alert_id, last_fired_at, last_severity, suppressed, last_seen_at
from alert_state_updates;
