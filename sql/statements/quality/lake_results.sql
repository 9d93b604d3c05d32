-- The group's stored expectation results in the lake (JSON as text).
select pipeline, run_id as writer_run_id, result_id as writer_result_id, run_at, scope, suite, expectation,
    expectation_type, column_name, critical, success, element_count, unexpected_count, observed_value,
    failing_sample, error, batch_id
from lake.quality_result_log
where group_id = $group_id;
