-- Retention: expectation results of scope $scope ('batch' or 'table') recorded before $before.
delete from quality_results where scope = $scope and run_at < $before;
