-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Record the segment changes the refresh derived (found by batch $batch_id, if any), in event time: the
-- alerts' feed. A change already stored as it is (customer, time, from, to) is kept, not written again, and so
-- is the final step's change (at the refresh's as_of: a change of time alone) when the customer's stored one
-- after the kept path is the same move: it keeps the time it was first found at (health/retract_segment_changes
-- then removes the customer's other stored changes from retract_from on). change_seq: drawn in this order.
insert into segment_changes (customer_id, changed_at, from_segment, to_segment, health_score, drifting_toward,
    days_to_threshold, batch_id, refresh_kind, change_seq)
select customer_id, changed_at, from_segment, to_segment, health_score, drifting_toward, days_to_threshold,
    batch_id, refresh_kind, nextval('segment_change_seq')
from (
    select n.customer_id, n.c.changed_at, n.c.from_segment, n.c.to_segment, n.health_score, n.drifting_toward,
        n.days_to_threshold, $batch_id::BIGINT as batch_id, n.refreshed_by as refresh_kind
    from (
        select customer_id, as_of, unnest(new_changes) as c, health_score, drifting_toward, days_to_threshold,
            refreshed_by, retract_from
        from health_refreshed
        where segment_changed
    ) as n
    where not exists (
        select 1 from segment_changes s
        where s.customer_id = n.customer_id and s.to_segment = n.c.to_segment
            and s.from_segment is not distinct from n.c.from_segment
            and (s.changed_at = n.c.changed_at or (n.c.changed_at = n.as_of and s.changed_at >= n.retract_from))
    )
    order by n.customer_id, n.c.changed_at
);
