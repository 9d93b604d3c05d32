-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Keep open_invoices in step with the invoices the batch changed (health_changed_invoices, just removed
-- from open_invoices by health/drop_changed_open_invoices): each changed invoice is put back in its new
-- state if it is due in the windows ending on the refresh's UTC day (health_batch_context) and was not
-- paid by its due date.
insert into open_invoices
select i.customer_id, i.invoice_id, i.first_seen_at, i.due_at, i.paid_at
from health_changed_invoices as i, health_batch_context as c
where i.due_at >= (c.as_of::date - 89)::timestamp and (i.paid_at is null or i.paid_at > i.due_at);
