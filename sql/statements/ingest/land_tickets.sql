-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Valid tickets of the batch; an event_id already stored (or repeated in the batch) lands once.
insert into tickets
select event_id, customer_id, occurred_at, ticket_id, action, category, channel, handling_minutes, escalated,
    compensation_requested, compensation_granted, sentiment, extra, $batch_id::BIGINT
from checked_tickets
where len(problems) = 0
qualify row_number() over (partition by event_id order by ordinal) = 1
on conflict do nothing;
