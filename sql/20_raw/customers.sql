-- Current profile per customer: the customer event with the latest occurred_at wins. Times are UTC.
create table if not exists customers (
    customer_id        varchar primary key,
    name               varchar not null,
    kind               varchar not null,
    plan               varchar not null,
    household_id       varchar,
    signed_up_at       timestamp not null,
    cancelled_at       timestamp,
    profile_updated_at timestamp not null
);
