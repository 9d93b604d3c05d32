select max(committed_at) from ingest_batches;
