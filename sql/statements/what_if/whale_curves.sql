-- The whale curves before and after letting the matched customers go (what_if_ranked): the cumulative
-- margin (currency units) and its share of the curve's total after each rank, down-sampled to about $points
-- points per curve, always keeping the first rank, the peak and the last rank.
select curve, rank,
    round(rank / n, 4)                           as customer_share,
    round(cumulative, 2)                         as cumulative_margin,
    round(cumulative / nullif(total, 0), 4)      as cumulative_margin_share
from what_if_ranked($segments, $margin_below, $plan, $kind)
where rank % greatest(1, n // $points) = 0
   or rank = 1
   or rank = n
   or (margin_90d >= 0 and next_margin < 0)
order by curve = 'after', rank;
