-- The working store's sequences as far as they went (so that a loaded copy draws no id twice) into __path__.
copy (select sequence_name, last_value from duckdb_sequences() where database_name = current_database()
      and last_value is not null) to '__path__' (format parquet);
