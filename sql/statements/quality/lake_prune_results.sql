-- Lake maintenance (`lake-maintain`, from one place, so no two writers delete): the group's expectation
-- results of scope $scope recorded before $before (their runs go next: lake_prune_runs).
delete from lake.quality_result_log where group_id = $group_id and scope = $scope and run_at < $before;
