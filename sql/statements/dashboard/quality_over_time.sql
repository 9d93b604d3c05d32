-- Expectation outcomes per hour and suite since $since (UTC): runs, expectations evaluated, failures.
select
    time_bucket(interval 1 hour, run_at) as hour,
    suite,
    scope,
    count(*)                             as runs,
    sum(expectations)                    as expectations,
    sum(failed)                          as failed,
    sum(critical_failed)                 as critical_failed,
    sum(quarantined)                     as quarantined
from quality_runs
where run_at >= $since
group by all
order by hour, suite, scope;
