-- Segment mix over time: customers per segment per UTC day from the daily snapshots (each customer's
-- last snapshot of the day), the last $days days.
with daily as (
    select snapshot_at::date as day, customer_id, arg_max(segment, snapshot_at) as segment
    from health_snapshots
    where snapshot_at >= health_model_now(health_utc_now()) - to_days($days::integer)
    group by all
)
select day, segment, count(*) as customers
from daily
group by all
order by day, segment;
