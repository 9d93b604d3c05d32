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

-- The segment mix at each history point (as_of: 00:00 UTC of its day), for the customers whose current
-- profile matches kind_filter and plan_filter (null = all): customers per segment, as the point-in-time
-- evaluation gave them then.
create or replace macro portfolio_segment_mix(kind_filter, plan_filter) as table
select h.as_of::date as day, h.as_of, h.segment, count(*) as customers
from health_history as h
where (kind_filter is null and plan_filter is null)
   or h.customer_id in (
        select customer_id from customers
        where (kind_filter is null or kind = kind_filter) and (plan_filter is null or plan = plan_filter))
group by all;
