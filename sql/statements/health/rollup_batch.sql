-- Add batch $batch_id to the customer_day rollup: its events (health_batch_facts) and the escalation
-- changes of its tickets (health_changed_escalations: +1 on the new day, -1 on the previous one).
insert into customer_day
with rows as (
    select * from health_day_rollup((select health_fx($params::json)), $batch_id, null, null)
    union all by name
    select customer_id, escalated_at::date as day, 1 as escalations
    from health_changed_escalations
    where previous_escalated_at is distinct from escalated_at
    union all by name
    select customer_id, previous_escalated_at::date as day, -1 as escalations
    from health_changed_escalations
    where previous_escalated_at is not null and previous_escalated_at <> escalated_at
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
    arg_max(last_payment_currency, last_payment_at)
from rows
group by customer_id, day
on conflict do update set
    support_minutes = customer_day.support_minutes + excluded.support_minutes,
    how_to_minutes = customer_day.how_to_minutes + excluded.how_to_minutes,
    tickets_opened = customer_day.tickets_opened + excluded.tickets_opened,
    complaints = customer_day.complaints + excluded.complaints,
    how_to_tickets = customer_day.how_to_tickets + excluded.how_to_tickets,
    legal_threats = customer_day.legal_threats + excluded.legal_threats,
    escalations = customer_day.escalations + excluded.escalations,
    compensation_requests = customer_day.compensation_requests + excluded.compensation_requests,
    compensation_requested_native = customer_day.compensation_requested_native
        + excluded.compensation_requested_native,
    compensation_granted_native = customer_day.compensation_granted_native + excluded.compensation_granted_native,
    charges = customer_day.charges + excluded.charges,
    refunds = customer_day.refunds + excluded.refunds,
    chargebacks = customer_day.chargebacks + excluded.chargebacks,
    credits = customer_day.credits + excluded.credits,
    failed_payments = customer_day.failed_payments + excluded.failed_payments,
    charge_attempts = customer_day.charge_attempts + excluded.charge_attempts,
    unpriced_payments = customer_day.unpriced_payments + excluded.unpriced_payments,
    visits = customer_day.visits + excluded.visits,
    first_visit_at = least(customer_day.first_visit_at, excluded.first_visit_at),
    last_visit_at = greatest(customer_day.last_visit_at, excluded.last_visit_at),
    last_activity_at = greatest(customer_day.last_activity_at, excluded.last_activity_at),
    last_payment_currency = case
        when excluded.last_payment_at >= coalesce(customer_day.last_payment_at, '-infinity'::timestamp)
        then excluded.last_payment_currency else customer_day.last_payment_currency end,
    last_payment_at = greatest(customer_day.last_payment_at, excluded.last_payment_at);
