-- Every alert, with its payload and webhook delivery status. Times are UTC.
-- delivery_status: 'pending' (queued for the webhook), 'delivered', 'failed' (gave up; last_error says
-- why), 'logged' (no webhook configured: logged and stored only), 'held' (circuit breaker open: part of
-- the summary alert summary_alert_id instead of being sent on its own).
create sequence if not exists alert_ids start 1;
create table if not exists alerts (
    alert_id         bigint primary key,  -- from sequence alert_ids
    created_at       timestamp not null,
    source           varchar not null,    -- segment, drift, quality, pipeline, dead_letter
    subject          varchar not null,    -- customer id, suite.expectation, 'lag', ...; '*' for a summary
    severity         varchar not null,    -- critical, warning
    title            varchar not null,
    payload          json not null,       -- the JSON document POSTed to the webhook
    delivery_status  varchar not null,
    attempts         integer not null,
    delivered_at     timestamp,
    last_error       varchar,
    summary_alert_id bigint               -- held alerts: the summary that stands for them
);
