-- The runs to record in the lake: those of the batches $batch_ids, the table-scope runs after run $after
-- (0: every one), or the runs $run_ids.
select run_id, run_at, scope, suite, trigger, batch_id, rows_validated, expectations, failed, critical_failed,
    quarantined, success, duration_ms
from quality_runs
where (scope = 'batch' and list_contains($batch_ids::BIGINT[], batch_id))
    or (scope = 'table' and run_id > $after::BIGINT)
    or list_contains($run_ids::BIGINT[], run_id)
order by run_id;
