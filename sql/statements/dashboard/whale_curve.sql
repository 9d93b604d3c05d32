-- The whale curve: customers ranked by 90-day margin, most profitable first, and the cumulative margin
-- (currency units) and its share of the total margin after each rank. Down-sampled to about $points
-- points, always keeping the first rank, the peak and the last rank. Churned customers are left out (as
-- in health/whale_curve). Filters: $kind, $plan (null = all).
with ranked as (
    select
        row_number() over (order by margin_90d desc, customer_id)                              as rank,
        count(*) over ()                                                                        as n,
        sum(margin_90d) over ()                                                                 as total,
        sum(margin_90d) over (order by margin_90d desc, customer_id rows unbounded preceding)  as cumulative,
        margin_90d,
        lead(margin_90d) over (order by margin_90d desc, customer_id)                           as next_margin
    from customer_health
    where segment <> 'churned'
      and ($kind is null or kind = $kind)
      and ($plan is null or plan = $plan)
)
select
    rank,
    rank / n                           as customer_share,
    cumulative                         as cumulative_margin,
    cumulative / nullif(total, 0)      as cumulative_margin_share
from ranked
where rank % greatest(1, n // $points) = 0
   or rank = 1
   or rank = n
   or (margin_90d >= 0 and next_margin < 0)
order by rank;
