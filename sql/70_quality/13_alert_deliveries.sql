-- Webhook delivery of each alert to each receiver (alerts.webhook_url, alerts.webhook_urls), named by its
-- URL without the query string. Times UTC. status: 'pending' (queued or retrying), 'delivered', 'failed'
-- (gave up; last_error says why). alerts.delivery_status sums these up (alerts/record_delivery).
create table if not exists alert_deliveries (
    alert_id     bigint not null,
    receiver     varchar not null,
    status       varchar not null,
    attempts     integer not null,
    delivered_at timestamp,
    last_error   varchar,
    primary key (alert_id, receiver)
);
