-- The lake commits the checkpoint covers (the registered Arrow relation checkpoint_commits) into __path__.
copy (select commit_id from checkpoint_commits order by commit_id) to '__path__' (format parquet);
