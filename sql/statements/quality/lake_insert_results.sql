-- The expectation results of a writer's runs (registered relation `pushed_results`: local_results' columns)
-- into the lake, in the transaction of their runs (lake_insert_runs).
insert into lake.quality_result_log
select $group_id, $pipeline, result_id, run_id, run_at, scope, suite, expectation, expectation_type, column_name,
    critical, success, element_count, unexpected_count, observed_value, failing_sample, error, batch_id
from pushed_results;
