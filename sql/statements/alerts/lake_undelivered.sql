-- store = "ducklake": the group's alerts still pending (created since $since, oldest first) that another
-- pipeline than $pipeline answers for: the one that recorded the alert's latest webhook outcome, else the one
-- that raised it; with the receivers that have already had their answer (delivered or gave up).
-- Payload: the JSON document, as text. An alert's outcomes are recorded after it was created, so only those
-- since $since are read (the logs only grow), in one scan.
with deliveries as (
    select alert_id, receiver, status, pipeline, alert_status,
        row_number() over (partition by alert_id order by recorded_at desc, alert_attempts desc) as alert_rank,
        row_number() over (partition by alert_id, receiver order by recorded_at desc, attempts desc) as receiver_rank
    from lake.alert_delivery_log
    where group_id = $group_id and recorded_at >= $since::TIMESTAMP
),
latest_delivery as (
    select alert_id, alert_status, pipeline from deliveries where alert_rank = 1
),
receivers_done as (
    select alert_id, list(receiver order by receiver) as receivers
    from deliveries
    where receiver_rank = 1 and status in ('delivered', 'failed')
    group by alert_id
),
raised as (
    select alert_id, pipeline, created_at, source, subject, severity, title, payload, delivery_status,
        summary_alert_id
    from lake.alert_log
    where group_id = $group_id and created_at >= $since::TIMESTAMP
    qualify row_number() over (partition by alert_id order by recorded_at) = 1
)
select a.alert_id, coalesce(d.pipeline, a.pipeline) as answered_by, a.created_at, a.source, a.subject, a.severity,
    a.title, a.payload, a.summary_alert_id, coalesce(r.receivers, []::varchar[]) as receivers_done
from raised a
left join latest_delivery d using (alert_id)
left join receivers_done r using (alert_id)
where coalesce(d.alert_status, a.delivery_status) = 'pending' and coalesce(d.pipeline, a.pipeline) <> $pipeline
order by a.alert_id;
