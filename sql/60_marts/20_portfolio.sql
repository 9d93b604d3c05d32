-- The portfolio mart: the active (not churned) customers of customer_health matching kind_filter and
-- plan_filter (null = all), ranked by margin_90d (currency units, trailing 90 days), most profitable first,
-- with the running and total margin the whale curve and the portfolio summary read.
create or replace macro portfolio_ranked(kind_filter, plan_filter) as table
select
    customer_id, revenue_90d, cost_to_serve_90d, margin_90d,
    row_number() over by_margin                                  as rank,
    count(*) over ()                                             as n,
    sum(margin_90d) over ()                                      as total,
    sum(margin_90d) over (by_margin rows unbounded preceding)    as cumulative,
    lead(margin_90d) over by_margin                              as next_margin
from customer_health
where segment <> 'churned'
  and (kind_filter is null or kind = kind_filter)
  and (plan_filter is null or plan = plan_filter)
window by_margin as (order by margin_90d desc, customer_id);
