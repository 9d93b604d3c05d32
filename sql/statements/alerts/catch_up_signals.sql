-- Is the pipeline replaying a backlog? Total consumer lag (messages) as last recorded since $lag_since, and
-- how long ago (ms, produce to commit) the freshest record of the last Kafka batch was produced.
select
    (select sum(lag) from consumer_lag where observed_at >= $lag_since) as lag,
    (select min_latency_ms from ingest_batches where source = 'kafka' order by batch_id desc limit 1)
        as last_batch_min_latency_ms,
    (select max(committed_at) from ingest_batches where source = 'kafka') as last_kafka_batch_at;
