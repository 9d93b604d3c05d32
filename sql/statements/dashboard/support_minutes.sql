-- The customers taking the most support time (agent minutes, trailing 90 and 30 days) against the
-- portfolio median of 90-day minutes (the portfolio's, whatever the filters $kind, $plan, $segment; null = all).
select
    customer_id, name, segment, kind, plan,
    support_minutes_90d,
    support_minutes_30d,
    portfolio_median_support_minutes_90d,
    support_minutes_90d / nullif(portfolio_median_support_minutes_90d, 0) as times_median,
    tickets_90d,
    cost_to_serve_90d
from customer_health
where ($kind is null or kind = $kind)
  and ($plan is null or plan = $plan)
  and ($segment is null or segment = $segment)
  and support_minutes_90d > 0
order by support_minutes_90d desc, customer_id
limit $limit;
