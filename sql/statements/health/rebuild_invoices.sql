-- Rebuild invoice_state from every landed charge event.
delete from invoice_state;
insert into invoice_state
select invoice_id, arg_min(customer_id, occurred_at), min(occurred_at), max(due_at),
    min(occurred_at) filter (where status = 'succeeded')
from payments
where kind = 'charge'
group by invoice_id;
