-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Invoices charged in batch $batch_id: first seen, latest due date, first succeeded charge. Returns
-- each upserted invoice as it now stands. (The batch is joined in: see health/batch_facts.)
insert into invoice_state
select p.invoice_id, arg_min(p.customer_id, p.occurred_at), min(p.occurred_at), max(p.due_at),
    min(p.occurred_at) filter (where p.status = 'succeeded')
from payments as p
join (select $batch_id::BIGINT as batch_id) as ctx on p.batch_id = ctx.batch_id
where p.kind = 'charge'
group by p.invoice_id
on conflict do update set
    first_seen_at = least(invoice_state.first_seen_at, excluded.first_seen_at),
    due_at = greatest(invoice_state.due_at, excluded.due_at),
    paid_at = least(invoice_state.paid_at, excluded.paid_at)
returning invoice_id, customer_id, first_seen_at, due_at, paid_at;
