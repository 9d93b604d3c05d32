-- Retention of batch-suite history: runs (and their results) before $before. Table runs are kept.
delete from quality_results where scope = 'batch' and run_at < $before;
