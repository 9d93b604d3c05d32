-- Messages per minute since $since (UTC), with the worst produce-to-commit latency of the minute (ms).
select
    time_bucket(interval 1 minute, committed_at) as minute,
    count(*)                                     as batches,
    sum(messages)                                as messages,
    sum(landed)                                  as landed,
    sum(dead_lettered)                           as dead_lettered,
    max(max_latency_ms)                          as max_latency_ms
from ingest_batches
where committed_at >= $since
group by minute
order by minute;
