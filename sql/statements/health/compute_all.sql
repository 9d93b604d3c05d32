-- Full refresh at $now: every customer computed from scratch (health_computed, chained from the history
-- points before $now, its segment following the path through the day). segment_changed: segment_changes may
-- move for the customer (new changes, or stored ones to replace, health/retract_segment_changes).
-- $live: the stored paths are kept while chained from the same last point (false after the history was
-- derived again: from the points and the day's events only).
insert into health_refreshed by name
select c.*, s.segment as state_segment,
    c.has_profile and (len(c.new_changes) > 0 or s.customer_id is not null) as segment_changed,
    null::varchar as snapshot_reason
from health_computed($params::JSON, $now::TIMESTAMP, live := $live::BOOLEAN, current := true) as c
left join (select customer_id, segment from health_state) as s using (customer_id);
