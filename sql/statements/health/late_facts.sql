-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- The facts and escalations of the late customers (health_late) since the day's 00:00 point, up to the
-- refresh's time (health_batch_context; the batch's included): what their path is derived again from. Run
-- only when some are late; the events are stored roughly in time order, so the bound on occurred_at skips the
-- older row groups.
insert into health_late_facts by name
select f.*, 0 as escalations
from health_event_facts((select fx from health_batch_context), null,
    (select as_of::date::timestamp from health_batch_context), (select as_of from health_batch_context)) as f
where f.customer_id in (select customer_id from health_late)
    and f.occurred_at > (select as_of::date::timestamp from health_batch_context)
union all by name
select e.customer_id, e.escalated_at as occurred_at, 1 as escalations
from ticket_escalations as e, health_batch_context as c
where e.escalated_at > c.as_of::date::timestamp and e.escalated_at <= c.as_of
    and e.customer_id in (select customer_id from health_late);
