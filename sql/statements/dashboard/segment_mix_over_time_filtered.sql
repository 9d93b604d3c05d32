-- Customers per segment per UTC day since $since: each customer counts once a day, in the segment of
-- their last snapshot that day (as health/segment_mix). Computed from the day's 'daily' snapshots
-- (everyone, at the day's first full refresh) corrected by the few customers whose segment changed later
-- that day, so 100k customers x 90 days need no per-customer sort. Only the customers whose current
-- profile matches $kind and $plan (null = any).
with matching as (
    select customer_id from customers where ($kind is null or kind = $kind) and ($plan is null or plan = $plan)
),
daily_counts as (
    select snapshot_at::date as day, segment, count(*) as customers
    from health_snapshots
    where reason = 'daily' and snapshot_at >= $since
      and customer_id in (select customer_id from matching)
    group by all
),
changed as (  -- the last segment of a customer-day that changed after its daily snapshot
    select customer_id, snapshot_at::date as day, arg_max(segment, snapshot_at) as segment
    from health_snapshots
    where reason <> 'daily' and snapshot_at >= $since
      and customer_id in (select customer_id from matching)
    group by all
),
replaced as (  -- their daily snapshot no longer counts
    select c.day, s.segment, -1 as customers
    from changed as c
    join health_snapshots as s on s.customer_id = c.customer_id and s.snapshot_at::date = c.day
    where s.reason = 'daily' and s.snapshot_at >= $since
)
select day, segment, sum(customers)::bigint as customers
from (
    select * from daily_counts
    union all select * from replaced
    union all select day, segment, 1 from changed
)
group by all
having sum(customers) > 0
order by day, segment;
