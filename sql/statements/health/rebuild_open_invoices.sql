-- Rebuild open_invoices for the windows ending on $now's UTC day (every full refresh).
delete from open_invoices;
insert into open_invoices
select customer_id, invoice_id, first_seen_at, due_at, paid_at
from invoice_state
where due_at >= ($now::timestamp::date - 89)::timestamp and (paid_at is null or paid_at > due_at);
