-- One summary row per known customer computed at $as_of (`customers --as-of`), one segment or all, worst
-- health first.
with computed as (
    select * from health_computed($params::json, $as_of::timestamp)
)
select customer_id, name, kind, plan, segment, health_score, revenue_90d, cost_to_serve_90d, margin_90d,
    support_minutes_90d, drifting_toward, days_to_threshold, next_step, next_step_reason, win_back_dates
from health_presented('computed', $as_of::timestamp)
where ($segment is null or segment = $segment)
order by health_score, customer_id;
