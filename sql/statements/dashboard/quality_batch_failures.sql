-- Expectations that failed on landed batches since $since (UTC), newest first, with sample bad rows.
select
    r.run_at,
    r.batch_id,
    r.suite,
    r.expectation,
    r.critical,
    r.unexpected_count,
    r.element_count,
    r.error,
    r.failing_sample::varchar as failing_sample
from quality_results as r
where r.scope = 'batch' and not r.success and r.run_at >= $since
order by r.result_id desc
limit $limit;
