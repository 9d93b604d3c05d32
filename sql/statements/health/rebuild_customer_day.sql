-- Rebuild the customer_day rollup from every landed event (and ticket_escalations, rebuilt first).
delete from customer_day;
insert into customer_day
with rows as (
    select * from health_day_rollup((select health_fx($params::json)), null, null, null)
    union all by name
    select * from health_escalation_days(null, null)
)
select customer_id, day,
    coalesce(sum(support_minutes), 0), coalesce(sum(how_to_minutes), 0),
    coalesce(sum(tickets_opened), 0), coalesce(sum(complaints), 0), coalesce(sum(how_to_tickets), 0), coalesce(sum(legal_threats), 0),
    coalesce(sum(escalations), 0), coalesce(sum(compensation_requests), 0),
    coalesce(sum(compensation_requested_native), 0), coalesce(sum(compensation_granted_native), 0),
    coalesce(sum(charges), 0), coalesce(sum(refunds), 0), coalesce(sum(chargebacks), 0),
    coalesce(sum(credits), 0),
    coalesce(sum(failed_payments), 0), coalesce(sum(charge_attempts), 0), coalesce(sum(unpriced_payments), 0),
    coalesce(sum(visits), 0),
    min(first_visit_at), max(last_visit_at), max(last_activity_at), max(last_payment_at),
    arg_max(last_payment_currency, last_payment_at), null
from rows
group by customer_id, day;
