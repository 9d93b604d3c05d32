-- The alerts `customer-health alerts retry` sends again: those of $alert_ids (null: every failed alert)
-- that are not delivered, oldest first, with the receivers that already have them.
select
    a.alert_id,
    a.payload::varchar as payload,
    coalesce(list(d.receiver order by d.receiver) filter (where d.status = 'delivered'), []) as receivers_done
from alerts as a
left join alert_deliveries as d on d.alert_id = a.alert_id
where a.delivery_status <> 'delivered'
    and (case when $alert_ids is null then a.delivery_status = 'failed' else list_contains($alert_ids, a.alert_id) end)
group by a.alert_id, a.payload::varchar
order by a.alert_id;
