-- Payment events. amount is in `currency` units; occurred_at and due_at are UTC.
create table if not exists payments (
    event_id    varchar primary key,
    customer_id varchar not null,
    occurred_at timestamp not null,
    invoice_id  varchar not null,
    kind        varchar not null,
    status      varchar not null,
    amount      decimal(18, 4) not null,
    currency    varchar not null,
    due_at      timestamp,
    extra       json,
    batch_id    bigint not null
);
