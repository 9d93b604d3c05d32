-- Keep open_invoices in step with the invoices batch $batch_id changed (health_changed_invoices): each
-- changed invoice is replaced by its new state if it is due in the window and was not paid by its due
-- date, else dropped.
delete from open_invoices where invoice_id in (select invoice_id from health_changed_invoices);
insert into open_invoices
select customer_id, invoice_id, first_seen_at, due_at, paid_at
from health_changed_invoices
where due_at >= ($now::timestamp::date - 89)::timestamp and (paid_at is null or paid_at > due_at);
