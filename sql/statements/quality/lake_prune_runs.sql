-- Lake maintenance (`lake-maintain`): the group's runs of scope $scope recorded before $before.
delete from lake.quality_run_log where group_id = $group_id and scope = $scope and run_at < $before;
