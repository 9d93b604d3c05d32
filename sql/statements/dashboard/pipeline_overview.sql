-- Ingest totals for the status banner. $now is UTC; "recent" is the last hour before it.
select
    count(*)                                                           as batches,
    max(committed_at)                                                  as last_batch_at,
    coalesce(sum(messages), 0)                                         as messages,
    coalesce(sum(landed), 0)                                           as landed,
    coalesce(sum(dead_lettered), 0)                                    as dead_lettered,
    coalesce(sum(quarantined), 0)                                      as quarantined,
    coalesce(sum(messages) filter (where committed_at >= $now - interval 1 hour), 0) as messages_last_hour,
    max(max_latency_ms) filter (where committed_at >= $now - interval 1 hour)        as max_latency_ms_last_hour
from ingest_batches;
