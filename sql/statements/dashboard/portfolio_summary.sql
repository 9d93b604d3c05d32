-- Portfolio totals over the trailing 90 days (currency units) for the customers matching $kind and $plan
-- (null = all, portfolio_ranked): the share of the total margin earned by the most profitable 30% of
-- customers, and the profit lost to the unprofitable tail (the sum of the negative margins, as a positive
-- amount).
select
    count(*)                                                                   as customers,
    coalesce(sum(revenue_90d), 0)                                              as revenue_90d,
    coalesce(sum(cost_to_serve_90d), 0)                                        as cost_to_serve_90d,
    coalesce(sum(margin_90d), 0)                                               as margin_90d,
    sum(margin_90d) filter (where rank <= ceil(0.3 * n)) / nullif(sum(margin_90d), 0)
                                                                               as top_30pct_margin_share,
    count(*) filter (where margin_90d < 0)                                     as unprofitable_customers,
    -coalesce(sum(margin_90d) filter (where margin_90d < 0), 0)                as profit_lost_to_unprofitable,
    coalesce(sum(margin_90d) filter (where margin_90d > 0), 0)                 as margin_of_profitable,
    median(revenue_90d)                                                        as median_revenue_90d,
    median(cost_to_serve_90d)                                                  as median_cost_to_serve_90d
from portfolio_ranked($kind, $plan);
