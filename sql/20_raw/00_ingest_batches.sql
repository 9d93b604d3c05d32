-- One row per landed batch (Kafka micro-batch or file chunk). Times are UTC.
create sequence if not exists ingest_batch_ids start 1;
create table if not exists ingest_batches (
    batch_id      bigint primary key,
    source        varchar not null,          -- 'kafka' or 'file:<path>'
    started_at    timestamp not null,
    committed_at  timestamp not null,
    messages      integer not null,
    landed        integer not null,
    duplicates    integer not null,
    dead_lettered integer not null,
    quarantined   integer not null default 0,
    -- produce (Kafka record timestamp) to commit, milliseconds: min / max over the batch
    min_latency_ms double,
    max_latency_ms double
);
