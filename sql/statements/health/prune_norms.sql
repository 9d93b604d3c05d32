-- Daily housekeeping at $now: norms older than 30 days.
delete from health_norms where computed_at < $now::timestamp - interval 30 days;
