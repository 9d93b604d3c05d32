-- The whole portfolio at a glance (portfolio_ranked) as `customer-health portfolio` prints it: totals, the
-- share of profit made by the top 30% of customers ranked by margin_90d, and the profit destroyed by the
-- unprofitable tail. Money in the reporting currency, 90-day windows.
select count(*) as customers,
    round(coalesce(sum(revenue_90d), 0), 2) as revenue_90d,
    round(coalesce(sum(cost_to_serve_90d), 0), 2) as cost_to_serve_90d,
    round(coalesce(sum(margin_90d), 0), 2) as margin_90d,
    round(coalesce(sum(margin_90d) filter (where margin_90d > 0), 0), 2) as profit_of_profitable,
    round(coalesce(sum(margin_90d) filter (where rank <= ceil(0.3 * n)), 0), 2) as profit_of_top_30pct,
    round(sum(margin_90d) filter (where rank <= ceil(0.3 * n)) / nullif(sum(margin_90d), 0), 4)
        as top_30pct_share_of_profit,
    count(*) filter (where margin_90d < 0) as unprofitable_customers,
    round(-coalesce(sum(margin_90d) filter (where margin_90d < 0), 0), 2) as profit_destroyed_by_unprofitable
from portfolio_ranked(null, null);
