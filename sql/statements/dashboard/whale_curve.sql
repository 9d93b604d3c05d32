-- The whale curve (portfolio_ranked): the cumulative margin (currency units) and its share of the total
-- after each rank. Down-sampled to about $points points, always keeping the first rank, the peak and the
-- last rank. Filters: $kind, $plan (null = all).
select
    rank,
    rank / n                           as customer_share,
    cumulative                         as cumulative_margin,
    cumulative / nullif(total, 0)      as cumulative_margin_share
from portfolio_ranked($kind, $plan)
where rank % greatest(1, n // $points) = 0
   or rank = 1
   or rank = n
   or (margin_90d >= 0 and next_margin < 0)
order by rank;
