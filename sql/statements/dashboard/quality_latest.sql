-- The latest table-scope run of each suite, one row per expectation: failing first, critical first.
with latest_run as (
    select suite, max(run_id) as run_id
    from quality_runs
    where scope = 'table'
    group by suite
)
select
    r.suite,
    r.expectation,
    r.critical,
    r.success,
    r.unexpected_count,
    r.element_count,
    r.run_at,
    r.error,
    r.observed_value::varchar as observed_value,
    r.failing_sample::varchar as failing_sample
from quality_results as r
join latest_run using (suite, run_id)
order by r.success, r.critical desc, r.suite, r.expectation;
