select nextval('ingest_batch_ids');
