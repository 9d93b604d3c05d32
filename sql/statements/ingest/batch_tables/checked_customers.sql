-- The batch's profile events, typed, with their contract problems (filled by ingest/check_customers).
create temp table if not exists checked_customers (
    ordinal bigint,
    problems struct(code varchar, message varchar)[],
    event_id varchar,
    customer_id varchar,
    occurred_at timestamp,
    name varchar,
    kind varchar,
    plan varchar,
    household_id varchar,
    signed_up_at timestamp,
    cancelled_at timestamp,
    extra json
);
