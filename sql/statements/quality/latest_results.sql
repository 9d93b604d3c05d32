-- The ops page: every expectation of the latest table run of each suite, failures first.
with latest as (
    select suite, max(run_id) as run_id from quality_runs where scope = 'table' group by suite
)
select r.suite, r.run_id, r.run_at, r.expectation, r.column_name, r.critical, r.success, r.element_count,
    r.unexpected_count, r.observed_value, r.failing_sample, r.error
from quality_results r
join latest l using (suite, run_id)
order by r.success, not r.critical, r.suite, r.expectation;
