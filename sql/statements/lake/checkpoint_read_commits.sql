select commit_id from read_parquet($path);
