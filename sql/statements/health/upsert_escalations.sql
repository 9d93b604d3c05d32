-- Tickets escalated in batch $batch_id: keep each ticket's first escalated event. Returns every upserted
-- ticket with its escalation time before (previous_escalated_at) and after: the incremental deltas.
insert into ticket_escalations
select ticket_id, arg_min(customer_id, occurred_at), min(occurred_at), null
from tickets
where batch_id = $batch_id and escalated
group by ticket_id
on conflict do update set
    previous_escalated_at = ticket_escalations.escalated_at,
    escalated_at = least(ticket_escalations.escalated_at, excluded.escalated_at)
returning ticket_id, customer_id, escalated_at, previous_escalated_at;
