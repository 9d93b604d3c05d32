-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Snapshot the refreshed customers that need one (health_refreshed.snapshot_reason).
insert into health_snapshots
select nextval('health_snapshot_ids'), customer_id, as_of, snapshot_reason, health_score, segment,
    baseline_segment, components, revenue_90d, cost_to_serve_90d, margin_90d, complaint_index_90d,
    support_minutes_90d::double
from (select * from health_refreshed where snapshot_reason is not null order by customer_id);
