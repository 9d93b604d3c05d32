-- The newest landed batches. Latencies: Kafka produce time to commit (milliseconds); null for files.
select
    batch_id,
    source,
    started_at,
    committed_at,
    date_diff('millisecond', started_at, committed_at) as duration_ms,
    messages,
    landed,
    duplicates,
    dead_lettered,
    quarantined,
    min_latency_ms,
    max_latency_ms
from ingest_batches
order by batch_id desc
limit $limit;
