-- The raw messages of the batch being landed (RawBatch.to_arrow), refilled per batch. The batch tables
-- are created once per connection and emptied per batch, replaced only after a staged batch (a large one,
-- ingest.landing.STAGE_MIN_ROWS): a catalog change makes DuckDB plan the prepared batch statements again
-- (customer_health.sqlfiles.PreparedStatements).
create temp table if not exists incoming (
    ordinal bigint,
    event_type varchar,
    topic varchar,
    "partition" integer,
    "offset" bigint,
    source_file varchar,
    source_line bigint,
    message_key blob,
    raw blob,
    produced_at timestamp_ms,  -- Kafka record timestamp (producer clock), UTC; null for files
    topic_id varchar
);
