-- Deduplication and cooldown per (source, subject): when it last fired, and how many repeats were
-- suppressed since. Times are UTC.
create table if not exists alert_state (
    source        varchar not null,
    subject       varchar not null,
    last_alert_id bigint not null,
    last_fired_at timestamp not null,
    last_severity varchar not null,
    suppressed    bigint not null,
    last_seen_at  timestamp not null,
    primary key (source, subject)
);
