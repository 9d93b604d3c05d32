-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Rows, segment changes derived and snapshots of the refresh being written, and how many customers' segment
-- changes move (written or replaced).
select count(*), coalesce(sum(len(new_changes)) filter (where segment_changed), 0),
    count(*) filter (where snapshot_reason is not null), count(*) filter (where segment_changed)
from health_refreshed;
