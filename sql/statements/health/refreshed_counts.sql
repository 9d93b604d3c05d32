-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Rows, segment changes and snapshots of the refresh being written.
select count(*), count(*) filter (where segment_changed), count(*) filter (where snapshot_reason is not null)
from health_refreshed;
