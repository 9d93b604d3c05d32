-- The dedup/cooldown state of every (source, subject) that fired in [$since, $now] (wall clock, UTC). A state
-- stamped after $now (by a pipeline that stamped alerts on the model's clock, before they ran on the wall
-- clock) holds no cooldown.
select source, subject, last_alert_id, last_fired_at, last_severity, suppressed, last_seen_at
from alert_state
where last_fired_at >= $since and last_fired_at <= $now;
