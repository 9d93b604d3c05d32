-- Invoices charged in batch $batch_id: first seen, latest due date, first succeeded charge. Returns
-- each upserted invoice as it now stands.
insert into invoice_state
select invoice_id, arg_min(customer_id, occurred_at), min(occurred_at), max(due_at),
    min(occurred_at) filter (where status = 'succeeded')
from payments
where batch_id = $batch_id and kind = 'charge'
group by invoice_id
on conflict do update set
    first_seen_at = least(invoice_state.first_seen_at, excluded.first_seen_at),
    due_at = greatest(invoice_state.due_at, excluded.due_at),
    paid_at = least(invoice_state.paid_at, excluded.paid_at)
returning invoice_id, customer_id, first_seen_at, due_at, paid_at;
