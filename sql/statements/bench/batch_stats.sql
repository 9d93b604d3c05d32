-- The pipeline's Kafka batches since $since (UTC) (bench/freshness.py): how many, their size, and the
-- cycle, i.e. milliseconds from one batch's start to the next one's (poll, checks, hooks, commit, ticks).
with batches as (
    select
        messages,
        epoch_ms(lead(started_at) over (order by started_at)) - epoch_ms(started_at) as cycle_ms
    from ingest_batches
    where source = 'kafka' and started_at >= $since
)
select
    count(*) as batches,
    avg(messages) as avg_messages,
    quantile_cont(cycle_ms, 0.5) as cycle_p50_ms,
    quantile_cont(cycle_ms, 0.95) as cycle_p95_ms
from batches;
