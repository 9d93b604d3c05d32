-- The expectation results of the runs $run_ids, to record in the lake (JSON as text).
select result_id, run_id, run_at, scope, suite, expectation, expectation_type, column_name, critical, success,
    element_count, unexpected_count, observed_value::varchar as observed_value,
    failing_sample::varchar as failing_sample, error, batch_id
from quality_results
where list_contains($run_ids::BIGINT[], run_id)
order by result_id;
