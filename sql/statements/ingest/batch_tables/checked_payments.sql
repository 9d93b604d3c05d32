-- The batch's payments, typed, with their contract problems (filled by ingest/check_payments).
create temp table if not exists checked_payments (
    ordinal bigint,
    problems struct(code varchar, message varchar)[],
    event_id varchar,
    customer_id varchar,
    occurred_at timestamp,
    invoice_id varchar,
    kind varchar,
    status varchar,
    amount decimal(18, 4),
    currency varchar,
    due_at timestamp,
    extra json
);
