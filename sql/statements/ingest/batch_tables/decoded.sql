-- The batch's messages as text, parsed once for their contract fields (filled by ingest/decode_incoming).
create temp table if not exists decoded (
    ordinal bigint,
    event_type varchar,
    topic varchar,
    "partition" integer,
    "offset" bigint,
    source_file varchar,
    source_line bigint,
    message_key blob,
    raw blob,
    produced_at timestamp_ms,
    topic_id varchar,
    text varchar,
    t varchar[],
    contract_fields bigint,
    envelope_problem struct(code varchar, message varchar),
    s varchar[]
);
