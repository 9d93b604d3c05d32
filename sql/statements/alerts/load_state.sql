-- The dedup/cooldown state of every (source, subject) that fired since $since.
select source, subject, last_alert_id, last_fired_at, last_severity, suppressed, last_seen_at
from alert_state
where last_fired_at >= $since;
