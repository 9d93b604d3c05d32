-- The facts and escalations of the late customers (health_late) since the day's 00:00 point, up to the
-- refresh's time (the batch's included): what their path is derived again from. Run only when some are late;
-- the events are stored roughly in time order, so the bound on occurred_at skips the older row groups.
insert into health_late_facts by name
select f.*, 0 as escalations
from health_event_facts((select fx from health_batch_context), null, $now::TIMESTAMP::date::TIMESTAMP,
    $now::TIMESTAMP) as f
where f.occurred_at > $now::TIMESTAMP::date::TIMESTAMP and f.customer_id in (select customer_id from health_late)
union all by name
select customer_id, escalated_at as occurred_at, 1 as escalations
from ticket_escalations
where escalated_at > $now::TIMESTAMP::date::TIMESTAMP and escalated_at <= $now::TIMESTAMP
    and customer_id in (select customer_id from health_late);
