-- Customer profile upsert events, every one kept. Times are UTC.
create table if not exists customer_events (
    event_id     varchar primary key,
    customer_id  varchar not null,
    occurred_at  timestamp not null,
    name         varchar not null,
    kind         varchar not null,
    plan         varchar not null,
    household_id varchar,
    signed_up_at timestamp not null,
    cancelled_at timestamp,
    extra        json,
    batch_id     bigint not null
);
