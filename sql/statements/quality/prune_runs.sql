-- Retention: suite runs of scope $scope recorded before $before (their results go first: prune_results).
delete from quality_runs where scope = $scope and run_at < $before;
