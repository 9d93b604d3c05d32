-- Visit (session) events. duration in seconds; occurred_at is UTC.
create table if not exists visits (
    event_id         varchar primary key,
    customer_id      varchar not null,
    occurred_at      timestamp not null,
    session_id       varchar not null,
    channel          varchar not null,
    duration_seconds double not null,
    pages            integer,
    extra            json,
    batch_id         bigint not null
);
