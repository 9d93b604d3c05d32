-- prepared: run once per history point, so every parameter carries its type ($name::TYPE)
-- The known customers of the point in health_refreshed (health/history_point_compute) into the history.
insert into health_snapshots by name
select min(nextval('health_snapshot_ids')) over () - 1 + row_number() over (order by customer_id) as snapshot_id,
    customer_id, as_of as snapshot_at, 'daily' as reason,
    health_score, segment, baseline_segment as previous_segment, components, revenue_90d, cost_to_serve_90d,
    margin_90d, complaint_index_90d, support_minutes_90d::double as support_minutes_90d, segment_reason
from health_refreshed
where has_profile;
