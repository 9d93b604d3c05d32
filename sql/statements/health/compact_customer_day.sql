-- Compact the rows batches appended to customer_day into one row per customer and day (daily, before
-- the first full refresh of the day). Older compacted rows of the same key (late events) stay: readers
-- sum all rows of a key. The compacted rows (batch_id null) go in first, then the rows they replace go.
insert into customer_day
select customer_id, day,
    sum(support_minutes), sum(how_to_minutes), sum(tickets_opened), sum(complaints), sum(how_to_tickets),
    sum(legal_threats), sum(escalations), sum(compensation_requests), sum(compensation_requested_native),
    sum(compensation_granted_native), sum(charges), sum(refunds), sum(chargebacks), sum(credits),
    sum(failed_payments), sum(charge_attempts), sum(unpriced_payments), sum(visits),
    min(first_visit_at), max(last_visit_at), max(last_activity_at), max(last_payment_at),
    arg_max(last_payment_currency, last_payment_at), null::bigint
from customer_day
where batch_id is not null
group by customer_id, day;
delete from customer_day where batch_id is not null;
