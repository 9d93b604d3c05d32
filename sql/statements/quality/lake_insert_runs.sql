-- A writer's runs (registered relation `pushed_runs`: local_runs' columns) into the lake.
insert into lake.quality_run_log
select $group_id, $pipeline, $now::TIMESTAMP, run_id, run_at, scope, suite, trigger, batch_id, rows_validated,
    expectations, failed, critical_failed, quarantined, success, duration_ms
from pushed_runs;
