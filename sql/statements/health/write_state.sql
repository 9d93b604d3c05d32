-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Store the refreshed rows (their previous rows are gone: health/delete_state).
insert into health_state by name
select * exclude (snapshot_reason, segment_changed, state_segment, new_changes, retract_from)
from health_refreshed;
