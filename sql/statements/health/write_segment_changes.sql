-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Record the segment changes the refresh derived (found by batch $batch_id, if any), in event time: the
-- alerts' feed. A change already stored as it is (customer, time, from, to) is kept, not written again
-- (health/retract_segment_changes then removes the customer's other stored changes from retract_from on).
insert into segment_changes
select n.customer_id, n.c.changed_at, n.c.from_segment, n.c.to_segment, n.health_score, n.drifting_toward,
    n.days_to_threshold, $batch_id::BIGINT, n.refreshed_by
from (
    select customer_id, unnest(new_changes) as c, health_score, drifting_toward, days_to_threshold, refreshed_by,
        retract_from
    from health_refreshed
    where segment_changed
) as n
where not exists (
    select 1 from segment_changes s
    where s.customer_id = n.customer_id and s.changed_at = n.c.changed_at and s.to_segment = n.c.to_segment
        and s.from_segment is not distinct from n.c.from_segment
)
order by n.customer_id, n.c.changed_at;
