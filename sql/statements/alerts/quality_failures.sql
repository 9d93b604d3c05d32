-- Critical expectation failures recorded after result $after, oldest first.
select result_id, run_id, run_at, scope, suite, expectation, unexpected_count, element_count, batch_id, error,
    observed_value::varchar as observed_value
from quality_results
where result_id > $after and critical and not success
order by result_id;
