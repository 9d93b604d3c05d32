-- The newest quality run recorded here (0: none): the runs a lake pipeline finds at start are not its own to record.
select coalesce(max(run_id), 0) from quality_runs;
