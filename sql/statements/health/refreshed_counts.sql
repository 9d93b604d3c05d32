-- Rows and segment changes of the refresh being written.
select count(*), count(*) filter (where segment_changed) from health_refreshed;
