-- Customers matching the live page's filters: the exact id searched for first, then lowest health
-- first, with their score over the 30 days before $now (UTC; one point per snapshot) for a sparkline.
-- null filters match everything; $search matches a part of the id or the name, ignoring case. The next
-- step is left out: it is decided at read time for every row the view returns (see customer_cards).
with matching as (
    select customer_id, name, kind, plan, segment, segment_since, health_score, p_alive, score_change_7d,
        drifting_toward, days_to_threshold, support_minutes_30d, margin_90d, refreshed_at
    from customer_health
    where ($kind is null or kind = $kind)
      and ($plan is null or plan = $plan)
      and ($segment is null or segment = $segment)
      and ($search is null or customer_id ilike '%' || $search || '%' or name ilike '%' || $search || '%')
    order by lower(customer_id) = lower($search) desc nulls last, health_score asc, customer_id
    limit $limit
),
trend as (
    select s.customer_id, list(s.health_score order by s.snapshot_at) as score_trend
    from health_snapshots as s
    join matching as m using (customer_id)
    where s.snapshot_at >= $now - interval 30 day
    group by s.customer_id
)
select m.customer_id, m.name, m.segment, m.health_score, m.p_alive, t.score_trend, m.score_change_7d,
    m.segment_since, m.drifting_toward, m.days_to_threshold, m.kind, m.plan, m.support_minutes_30d,
    m.margin_90d, m.refreshed_at
from matching as m
left join trend as t using (customer_id)
order by lower(m.customer_id) = lower($search) desc nulls last, m.health_score asc, m.customer_id;
