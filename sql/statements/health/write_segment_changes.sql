-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Record the current state's segment changes of the refresh being written (found by batch $batch_id, if
-- any): the alerts' feed.
insert into segment_changes
select customer_id, as_of, state_segment, segment, health_score, drifting_toward, days_to_threshold,
    $batch_id::BIGINT, refreshed_by
from (select * from health_refreshed where segment_changed order by customer_id);
