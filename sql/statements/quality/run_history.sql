-- The ops page: recent suite runs (both scopes), newest first; $scope null = both.
select run_id, run_at, scope, suite, trigger, batch_id, rows_validated, expectations, failed, critical_failed,
    quarantined, success, skipped_reason, duration_ms
from quality_runs
where $scope::varchar is null or scope = $scope::varchar
order by run_id desc
limit $limit;
