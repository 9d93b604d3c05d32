-- Customers projected to cross into a bad segment within $horizon_days, except those whose drift alert
-- fired in [$cooldown_start, $now] (still in cooldown; wall clock, UTC: a state stamped after $now, on the
-- model's clock by an older pipeline, holds no cooldown).
select h.customer_id, h.name, h.segment, h.drifting_toward, h.days_to_threshold, h.health_score,
    h.score_change_7d, h.score_change_30d
from customer_health h
left join alert_state s on s.source = 'drift' and s.subject = h.customer_id
where h.drifting_toward is not null
    and h.days_to_threshold <= $horizon_days
    and (s.last_fired_at is null or s.last_fired_at < $cooldown_start or s.last_fired_at > $now)
order by h.days_to_threshold, h.customer_id;
