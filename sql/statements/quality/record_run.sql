-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- One suite run; returns its run_id.
insert into quality_runs (run_id, run_at, scope, suite, trigger, batch_id, rows_validated, expectations, failed,
    critical_failed, quarantined, success, duration_ms)
values (nextval('quality_run_ids'), $run_at::TIMESTAMP, $scope::VARCHAR, $suite::VARCHAR, $trigger::VARCHAR,
    $batch_id::BIGINT, $rows_validated::BIGINT, $expectations::INTEGER, $failed::INTEGER, $critical_failed::INTEGER,
    $quarantined::INTEGER, $success::BOOLEAN, $duration_ms::DOUBLE)
returning run_id;
