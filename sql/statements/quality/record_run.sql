-- One suite run; returns its run_id.
insert into quality_runs (run_id, run_at, scope, suite, trigger, batch_id, rows_validated, expectations, failed,
    critical_failed, quarantined, success, skipped_reason, duration_ms)
values (nextval('quality_run_ids'), $run_at, $scope, $suite, $trigger, $batch_id, $rows_validated, $expectations,
    $failed, $critical_failed, $quarantined, $success, $skipped_reason, $duration_ms)
returning run_id;
