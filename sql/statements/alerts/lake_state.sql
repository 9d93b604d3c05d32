-- The group's dedup/cooldown state in the lake: per (source, subject) the latest row, of those fired in
-- [$since, $now] (alerts/load_state's columns; a row stamped after $now, on the model's clock by a pipeline from
-- before alerts ran on the wall clock, holds no cooldown).
select source, subject, last_alert_id, last_fired_at, last_severity, suppressed, last_seen_at
from lake.alert_state_log
where group_id = $group_id and last_fired_at >= $since::TIMESTAMP and last_fired_at <= $now::TIMESTAMP
qualify row_number() over (partition by source, subject order by last_fired_at desc, last_seen_at desc,
    recorded_at desc) = 1;
