-- The batch's visits, typed, with their contract problems (filled by ingest/check_visits).
create temp table if not exists checked_visits (
    ordinal bigint,
    problems struct(code varchar, message varchar)[],
    event_id varchar,
    customer_id varchar,
    occurred_at timestamp,
    session_id varchar,
    channel varchar,
    duration_seconds double,
    pages integer,
    extra json
);
