-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Tickets escalated in batch $batch_id: keep each ticket's first escalated event. Returns every upserted
-- ticket with its escalation time before (previous_escalated_at) and after: the incremental deltas.
-- (The batch is joined in rather than compared with the parameter: see health/batch_facts.)
insert into ticket_escalations
select t.ticket_id, arg_min(t.customer_id, t.occurred_at), min(t.occurred_at), null
from tickets as t
join (select $batch_id::BIGINT as batch_id) as ctx on t.batch_id = ctx.batch_id
where t.escalated
group by t.ticket_id
on conflict do update set
    previous_escalated_at = ticket_escalations.escalated_at,
    escalated_at = least(ticket_escalations.escalated_at, excluded.escalated_at)
returning ticket_id, customer_id, escalated_at, previous_escalated_at;
