insert into ingest_batches
select $batch_id, $source, $started_at, $now, $messages, $landed, $duplicates, $dead_lettered, $quarantined,
    min(epoch_ms($now) - epoch_ms(produced_at)), max(epoch_ms($now) - epoch_ms(produced_at))
from incoming;
