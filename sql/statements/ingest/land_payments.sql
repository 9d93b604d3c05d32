-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Valid payments of the batch; an event_id already stored (or repeated in the batch) lands once.
insert into payments
select event_id, customer_id, occurred_at, invoice_id, kind, status, amount, currency, due_at, extra, $batch_id::BIGINT
from checked_payments
where len(problems) = 0
qualify row_number() over (partition by event_id order by ordinal) = 1
on conflict do nothing;
