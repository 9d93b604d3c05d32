-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
insert into ingest_batches
select $batch_id::BIGINT, $source::VARCHAR, $started_at::TIMESTAMP, $now::TIMESTAMP, $messages::BIGINT,
    $landed::BIGINT, $duplicates::BIGINT, $dead_lettered::BIGINT, $quarantined::BIGINT,
    min(epoch_ms($now::TIMESTAMP) - epoch_ms(produced_at)), max(epoch_ms($now::TIMESTAMP) - epoch_ms(produced_at))
from incoming;
