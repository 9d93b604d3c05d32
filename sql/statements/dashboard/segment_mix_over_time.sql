-- Customers per segment per UTC day since $since, from the daily snapshots (every customer at each day's
-- first full refresh; changes later in a day show from the next day's snapshot). Filters on the current
-- profile: $kind, $plan (null = all).
select s.snapshot_at::date as day, s.segment, count(*) as customers
from health_snapshots as s
where s.reason = 'daily'
  and s.snapshot_at >= $since
  and (($kind is null and $plan is null)
       or s.customer_id in (select customer_id from customers
                            where ($kind is null or kind = $kind) and ($plan is null or plan = $plan)))
group by all
order by day, s.segment;
