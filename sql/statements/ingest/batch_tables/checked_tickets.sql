-- The batch's tickets, typed, with their contract problems (filled by ingest/check_tickets).
create temp table if not exists checked_tickets (
    ordinal bigint,
    problems struct(code varchar, message varchar)[],
    event_id varchar,
    customer_id varchar,
    occurred_at timestamp,
    ticket_id varchar,
    action varchar,
    category varchar,
    channel varchar,
    handling_minutes double,
    escalated boolean,
    compensation_requested decimal(18, 2),
    compensation_granted decimal(18, 2),
    sentiment double,
    extra json
);
