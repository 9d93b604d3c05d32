-- Portfolio totals over the trailing 90 days (currency units) for the customers matching $kind and $plan
-- (null = all): the share of the total margin earned by the most profitable 30% of customers, and the
-- profit lost to the unprofitable tail (the sum of the negative margins, as a positive amount). Churned
-- customers are left out, as in health/portfolio_summary.
with matching as (
    select customer_id, revenue_90d, cost_to_serve_90d, margin_90d
    from customer_health
    where segment <> 'churned'
      and ($kind is null or kind = $kind)
      and ($plan is null or plan = $plan)
),
ranked as (
    select margin_90d, row_number() over (order by margin_90d desc, customer_id) as rank, count(*) over () as n
    from matching
)
select
    count(*)                                                                   as customers,
    coalesce(sum(revenue_90d), 0)                                              as revenue_90d,
    coalesce(sum(cost_to_serve_90d), 0)                                        as cost_to_serve_90d,
    coalesce(sum(margin_90d), 0)                                               as margin_90d,
    (select sum(margin_90d) from ranked where rank <= ceil(0.3 * n))
        / nullif(sum(margin_90d), 0)                                           as top_30pct_margin_share,
    count(*) filter (where margin_90d < 0)                                     as unprofitable_customers,
    -coalesce(sum(margin_90d) filter (where margin_90d < 0), 0)                as profit_lost_to_unprofitable,
    coalesce(sum(margin_90d) filter (where margin_90d > 0), 0)                 as margin_of_profitable,
    median(revenue_90d)                                                        as median_revenue_90d,
    median(cost_to_serve_90d)                                                  as median_cost_to_serve_90d
from matching;
