-- Customers drifting toward unprofitable or terrorist status (null filters match all), worst first: soonest to cross the
-- threshold (days), then lowest score. score_trend: health over the 30 days before $now (UTC), one point
-- per snapshot. what_moved: the components (0-100) that fell by a point or more since the oldest
-- snapshot of the last 7 days, biggest fall first.
with drifting as (
    select customer_id, name, kind, plan, segment, health_score, score_change_7d, drifting_toward,
        days_to_threshold, next_step, next_step_reason, support_minutes_30d, margin_90d,
        to_json(components) as components_now
    from customer_health
    where drifting_toward is not null
      and ($kind is null or kind = $kind)
      and ($plan is null or plan = $plan)
      and ($segment is null or segment = $segment)
      and ($search is null or customer_id ilike '%' || $search || '%' or name ilike '%' || $search || '%')
    order by days_to_threshold asc nulls last, health_score asc, customer_id
    limit $limit
),
recent as (
    select customer_id, snapshot_at, health_score, to_json(components) as components
    from health_snapshots
    where customer_id in (select customer_id from drifting) and snapshot_at >= $now - interval 30 day
),
trend as (
    select customer_id, list(health_score order by snapshot_at) as score_trend
    from recent
    group by customer_id
),
week_ago as (
    select customer_id, arg_min(components, snapshot_at) as components_before
    from recent
    where snapshot_at >= $now - interval 7 day
    group by customer_id
),
deltas as (
    select d.customer_id, c.component,
        (d.components_now ->> c.component)::double - (w.components_before ->> c.component)::double as delta
    from drifting as d
    join week_ago as w using (customer_id)
    cross join (values ('engagement'), ('payment_behaviour'), ('support_burden'), ('complaint_behaviour'),
                       ('profitability')) as c(component)
),
moved as (
    select customer_id,
        string_agg(replace(component, '_', ' ') || ' ' || printf('%+.0f', delta), ', ' order by delta)
            filter (where delta <= -1) as what_moved
    from deltas
    group by customer_id
)
select d.customer_id, d.name, d.segment, d.drifting_toward, d.days_to_threshold, d.health_score,
    t.score_trend, d.score_change_7d, m.what_moved, d.next_step, d.next_step_reason, d.kind, d.plan,
    d.support_minutes_30d, d.margin_90d
from drifting as d
left join trend as t using (customer_id)
left join moved as m using (customer_id)
order by d.days_to_threshold asc nulls last, d.health_score asc, d.customer_id;
