-- One summary row per known customer as maintained (`customers`), one segment or all, worst health first.
select customer_id, name, kind, plan, segment, health_score, revenue_90d, cost_to_serve_90d, margin_90d,
    support_minutes_90d, drifting_toward, days_to_threshold, next_step, next_step_reason, win_back_dates
from customer_health
where ($segment is null or segment = $segment)
order by health_score, customer_id;
