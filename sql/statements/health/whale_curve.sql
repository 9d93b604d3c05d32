-- The whale curve of the whole portfolio (portfolio_ranked) as `customer-health portfolio` prints it:
-- at most about $points points (every rank where the curve peaks is kept).
with ranked as (
    select * from portfolio_ranked(null, null)
)
select rank, round(rank / n, 4) as customer_share, round(cumulative, 2) as cumulative_profit,
    round(cumulative / nullif(total, 0), 4) as cumulative_profit_share
from ranked
where rank % greatest(1, n // $points) = 0 or rank = 1 or rank = n
    or (margin_90d >= 0 and rank < n and cumulative = (select max(cumulative) from ranked))
order by rank;
