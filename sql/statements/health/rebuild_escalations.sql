-- Rebuild ticket_escalations from every landed ticket event.
delete from ticket_escalations;
insert into ticket_escalations
select ticket_id, arg_min(customer_id, occurred_at), min(occurred_at), null
from tickets
where escalated
group by ticket_id;
