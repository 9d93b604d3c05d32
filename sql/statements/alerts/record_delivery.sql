-- The webhook delivery status of one alert over the receivers $current_receivers (those configured now):
-- delivered once every one has it, failed once one gave up, else pending; attempts: the most any of them
-- took; last_error: each one's latest failed attempt (kept after a later success), prefixed by the receiver
-- when there are several.
update alerts
set delivery_status = d.status, attempts = d.attempts, delivered_at = d.delivered_at, last_error = d.last_error
from (
    select
        alert_id,
        case
            when bool_or(status = 'failed') then 'failed'
            when count(*) filter (where status = 'delivered') >= len($current_receivers) then 'delivered'
            else 'pending'
        end as status,
        max(attempts) as attempts,
        case when count(*) filter (where status = 'delivered') >= len($current_receivers) then max(delivered_at) end
            as delivered_at,
        case
            when len($current_receivers) = 1 then max(last_error)
            else string_agg(receiver || ': ' || last_error, '; ' order by receiver)
        end as last_error
    from alert_deliveries
    where alert_id = $alert_id and list_contains($current_receivers, receiver)
    group by alert_id
) as d
where alerts.alert_id = d.alert_id;
