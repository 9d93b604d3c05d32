-- Full refresh at $now: every customer computed from scratch (health_computed, chained from the history
-- points before $now). segment_changed: the current state's segment moved from the stored one (alerts).
-- $live: the hysteresis starts from the stored segment while it is chained from the same last point
-- (false after the history was derived again: from the points only).
insert into health_refreshed by name
select c.*, s.segment as state_segment,
    c.has_profile and c.segment is distinct from s.segment as segment_changed,
    null::varchar as snapshot_reason
from health_computed($params::JSON, $now::TIMESTAMP, live := $live::BOOLEAN) as c
left join (select customer_id, segment from health_state) as s using (customer_id);
