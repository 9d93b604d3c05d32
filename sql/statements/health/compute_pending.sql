-- The pending customers $customers computed at $now from the rollups, as the full refresh computes everyone
-- (health_computed restricted to them), with the norms in use (what an incremental refresh derives with).
-- Their path through the day is derived again from the day's events (live false: their stored path missed the
-- batches they were pending through); segment_changed: their segment_changes may move.
insert into health_refreshed by name
select c.*, s.segment as state_segment,
    c.has_profile and (len(c.new_changes) > 0 or s.customer_id is not null) as segment_changed,
    null::varchar as snapshot_reason
from health_computed($params::JSON, $now::TIMESTAMP, live := false, current := true,
    subset := $customers::VARCHAR[]) as c
left join (select customer_id, segment from health_state) as s using (customer_id);
