-- Customers per segment per day since $since (UTC days): each customer counts once a day, in the segment
-- of their last snapshot that day. Filters: $kind, $plan (null = all).
with daily as (
    select date_trunc('day', snapshot_at) as day, customer_id, arg_max(segment, snapshot_at) as segment
    from health_snapshots
    where snapshot_at >= $since
      and (($kind is null and $plan is null)
           or customer_id in (select customer_id from customer_health
                              where ($kind is null or kind = $kind) and ($plan is null or plan = $plan)))
    group by all
)
select day, segment, count(*) as customers
from daily
group by all
order by day, segment;
