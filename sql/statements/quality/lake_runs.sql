-- The group's quality runs in the lake, numbered in the order they ran (run_at, then writer, then its run id).
select pipeline, run_id as writer_run_id, row_number() over (order by run_at, pipeline, run_id) as copy_run_id,
    run_at, scope, suite, trigger, batch_id, rows_validated, expectations, failed, critical_failed, quarantined,
    success, duration_ms
from lake.quality_run_log
where group_id = $group_id;
