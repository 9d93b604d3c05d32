-- Daily housekeeping at $now: refresh log rows older than 30 days.
delete from health_refreshes where as_of < $now::timestamp - interval 30 days;
