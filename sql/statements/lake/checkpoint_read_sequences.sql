select sequence_name, last_value from read_parquet($path);
