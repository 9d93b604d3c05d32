-- Alerts that never reached every webhook receiver: failed (gave up), pending (queued or retrying) and
-- held (circuit breaker: only their summary was sent), newest first, with each receiver's outcome. UTC.
select
    a.alert_id,
    a.created_at,
    a.severity,
    a.source,
    a.subject,
    a.title,
    a.delivery_status,
    a.attempts,
    a.last_error,
    a.summary_alert_id,
    coalesce(string_agg(d.receiver || ' ' || d.status, ', ' order by d.receiver), '') as receivers
from alerts as a
left join alert_deliveries as d on d.alert_id = a.alert_id
where a.delivery_status in ('failed', 'pending', 'held')
group by all
order by a.alert_id desc
limit $limit;
