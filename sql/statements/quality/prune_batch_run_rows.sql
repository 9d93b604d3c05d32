-- Retention of batch-suite history, second half: the run rows before $before.
delete from quality_runs where scope = 'batch' and run_at < $before;
