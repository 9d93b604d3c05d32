-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Add batch $batch_id to the customer_day rollup (appended: one row per customer and day it touched):
-- its events and the escalation changes of its tickets (health_changed_escalations: +1 on the new day,
-- -1 on the previous one).
insert into customer_day
with rows as (
    select * from health_day_rollup_of('health_batch_facts')
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
    arg_max(last_payment_currency, last_payment_at), $batch_id::BIGINT
from rows
group by customer_id, day
