-- Rebuild the customer_day rollup from every landed event (and ticket_escalations, rebuilt first).
-- health_day_rollup gives one row per customer and day with events, health_escalation_days one per customer
-- and day with escalations: joined on their key, not summed again (a second aggregate of every column over
-- every row cost more than the rollup itself). An escalation's day always has its ticket event; the full join
-- keeps a day of escalations alone all the same.
delete from customer_day;
insert into customer_day
with days as (
    select * from health_day_rollup((select health_fx($params::json)), null, null, null)
), escalated as (
    select * from health_escalation_days(null, null)
)
select coalesce(d.customer_id, e.customer_id), coalesce(d.day, e.day),
    coalesce(d.support_minutes, 0), coalesce(d.how_to_minutes, 0),
    coalesce(d.tickets_opened, 0), coalesce(d.complaints, 0), coalesce(d.how_to_tickets, 0),
    coalesce(d.legal_threats, 0),
    coalesce(e.escalations, 0), coalesce(d.compensation_requests, 0),
    coalesce(d.compensation_requested_native, 0), coalesce(d.compensation_granted_native, 0),
    coalesce(d.charges, 0), coalesce(d.refunds, 0), coalesce(d.chargebacks, 0),
    coalesce(d.credits, 0),
    coalesce(d.failed_payments, 0), coalesce(d.charge_attempts, 0), coalesce(d.unpriced_payments, 0),
    coalesce(d.visits, 0),
    d.first_visit_at, d.last_visit_at, d.last_activity_at, d.last_payment_at,
    d.last_payment_currency, null
from days d
full join escalated e on e.customer_id = d.customer_id and e.day = d.day;
