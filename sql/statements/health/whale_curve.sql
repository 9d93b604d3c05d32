-- The whale curve: customers ranked by margin_90d (best first) against the cumulative profit, as a
-- share of the total; at most about $points points (every rank where the curve peaks is kept).
with ranked as (
    select customer_id, margin_90d,
        row_number() over (order by margin_90d desc, customer_id) as rank,
        count(*) over () as n,
        sum(margin_90d) over () as total,
        sum(margin_90d) over (order by margin_90d desc, customer_id rows unbounded preceding) as cumulative
    from customer_health
    where segment <> 'churned'
)
select rank, round(rank / n, 4) as customer_share, round(cumulative, 2) as cumulative_profit,
    round(cumulative / nullif(total, 0), 4) as cumulative_profit_share
from ranked
where rank % greatest(1, n // $points) = 0 or rank = 1 or rank = n
    or (margin_90d >= 0 and rank < n and cumulative = (select max(cumulative) from ranked))
order by rank;
