-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
select nextval('ingest_batch_ids');
