-- The ops page: failed expectations over time (both scopes), newest first.
select result_id, run_id, run_at, scope, suite, expectation, critical, unexpected_count, element_count,
    observed_value, failing_sample, error, batch_id
from quality_results
where not success
order by result_id desc
limit $limit;
