-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- The customers batch $batch_id touched into health_touched: its facts, the escalations and invoices it
-- changed, its profile events.
insert into health_touched
select customer_id from health_batch_facts
union select customer_id from health_changed_escalations
union select customer_id from health_changed_invoices
union select customer_id from customer_events where batch_id = $batch_id::BIGINT;
