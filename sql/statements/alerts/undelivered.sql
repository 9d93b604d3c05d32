-- Alerts still to be sent when the last pipeline stopped, created since $since (oldest first), with the
-- receivers that have already had their answer (delivered or gave up).
select
    a.alert_id,
    a.payload::varchar as payload,
    coalesce(list(d.receiver order by d.receiver) filter (where d.status in ('delivered', 'failed')), [])
        as receivers_done
from alerts as a
left join alert_deliveries as d on d.alert_id = a.alert_id
where a.delivery_status = 'pending' and a.created_at >= $since
group by a.alert_id, a.payload::varchar
order by a.alert_id;
