-- store = "ducklake": the alerts of every pipeline of the group, in the lake (attached as `lake`). Append-only,
-- so that pipelines recording at once never conflict (DuckLake checks conflicts per table: inserts beside
-- inserts commit); readers take the latest row per key (lake_alerts, lake_state, lake_deliveries).
-- Every alert as the pipeline that raised it stored it (payload: the JSON document, as text).
create table if not exists lake.alert_log (
    group_id         varchar not null,
    pipeline         varchar not null,
    recorded_at      timestamp not null,  -- UTC
    alert_id         bigint not null,     -- unique among the group's pipelines (customer_health.alerts.lake)
    created_at       timestamp not null,
    source           varchar not null,
    subject          varchar not null,
    severity         varchar not null,
    title            varchar not null,
    payload          varchar not null,
    delivery_status  varchar not null,
    summary_alert_id bigint
);
-- Dedup and cooldown per (source, subject), one row per change: the latest (last_seen_at) is the state.
create table if not exists lake.alert_state_log (
    group_id      varchar not null,
    pipeline      varchar not null,
    recorded_at   timestamp not null,
    source        varchar not null,
    subject       varchar not null,
    last_alert_id bigint not null,
    last_fired_at timestamp not null,
    last_severity varchar not null,
    suppressed    bigint not null,
    last_seen_at  timestamp not null
);
-- Every recorded webhook outcome of an alert at a receiver, with the alert's delivery status it gave.
create table if not exists lake.alert_delivery_log (
    group_id        varchar not null,
    pipeline        varchar not null,
    recorded_at     timestamp not null,
    alert_id        bigint not null,
    receiver        varchar not null,
    status          varchar not null,
    attempts        integer not null,
    delivered_at    timestamp,
    last_error      varchar,
    alert_status    varchar not null,
    alert_attempts  integer not null,
    alert_delivered_at timestamp,
    alert_last_error varchar
);
