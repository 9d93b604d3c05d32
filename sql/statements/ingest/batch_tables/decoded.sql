-- The batch's messages as text, parsed once for their contract fields (filled by ingest/decode_incoming).
-- Their origin and raw bytes stay in `incoming` (same ordinal): copying them here cost as much again.
create temp table if not exists decoded (
    ordinal bigint,
    event_type varchar,
    text varchar,
    t varchar[],
    contract_fields bigint,
    envelope_problem struct(code varchar, message varchar),
    s varchar[]
);
