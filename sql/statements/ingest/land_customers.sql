-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Valid profile events of the batch; an event_id already stored (or repeated in the batch) lands once.
insert into customer_events
select event_id, customer_id, occurred_at, name, kind, plan, household_id, signed_up_at, cancelled_at, extra,
    $batch_id::BIGINT
from checked_customers
where len(problems) = 0
qualify row_number() over (partition by event_id order by ordinal) = 1
on conflict do nothing;
