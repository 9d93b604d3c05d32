-- Daily housekeeping at $now: snapshots past their retention (health.snapshot_retention_days).
delete from health_snapshots
where snapshot_at < $now::timestamp - health_days(health_params($params::json).snapshot_retention_days);
