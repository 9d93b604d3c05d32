-- Segment mix over time: customers per segment at each history point (as_of, 00:00 UTC of its day) of
-- the last $days days before the model's now.
select snapshot_at::date as day, snapshot_at as as_of, segment, count(*) as customers
from health_snapshots
where snapshot_at >= health_model_now(health_utc_now()) - to_days($days::integer)
group by all
order by as_of, segment;
