-- store = "ducklake" with derive_owned_only, at the first refresh of a UTC day: the time of the last refresh
-- before it (the previous day's last batch) when some customers wait in health_pending (touched while another
-- pipeline owned them), else null. They are derived as of then first, so that their path through that day and
-- its segment changes are recorded at their event times, as their owner recorded them.
select case when exists (select 1 from health_pending) then (select max(as_of) from health_refreshes) end;
