-- Customers, money (currency units, trailing 90 days) and average health per segment now, in the
-- segments' order from best to worst. Filters: $kind, $plan (null = all).
select
    segment,
    count(*)               as customers,
    sum(revenue_90d)       as revenue_90d,
    sum(cost_to_serve_90d) as cost_to_serve_90d,
    sum(margin_90d)        as margin_90d,
    avg(health_score)      as average_health
from customer_health
where ($kind is null or kind = $kind)
  and ($plan is null or plan = $plan)
group by segment
order by coalesce(array_position(segments(), segment), 99), segment;
