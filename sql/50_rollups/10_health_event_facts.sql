-- An amount in the reporting currency (null when its currency has no rate).
create or replace macro health_amount_base(fx, amount, currency) as
    (amount::double / map_extract_value(fx, currency))::decimal(18, 4);

-- One row per landed ticket, payment and visit event with its additive health facts. Filters: a batch
-- (null: every batch) and an occurred_at range [from_at, to_at] (null: open); they reach the table
-- scans, so a batch or a day reads only its own row groups. fx: health_fx(...), computed once.
-- A ticket counts as a complaint, how-to or legal threat on its 'opened' event; escalations come from
-- ticket_escalations (first escalated event per ticket), not from here.
create or replace macro health_event_facts(fx, batch, from_at, to_at) as table
with facts as (
    select customer_id, occurred_at, batch_id,
        handling_minutes::decimal(18, 4) as support_minutes,
        (case when category = 'how_to' then handling_minutes else 0 end)::decimal(18, 4) as how_to_minutes,
        (action = 'opened')::integer as tickets_opened,
        (action = 'opened' and category = 'complaint')::integer as complaints,
        (action = 'opened' and category = 'how_to')::integer as how_to_tickets,
        (action = 'opened' and category = 'legal_threat')::integer as legal_threats,
        (coalesce(compensation_requested, 0) > 0)::integer as compensation_requests,
        coalesce(compensation_requested, 0)::decimal(18, 4) as compensation_requested_native,
        coalesce(compensation_granted, 0)::decimal(18, 4) as compensation_granted_native,
        0::decimal(18, 4) as charges, 0::decimal(18, 4) as refunds, 0::decimal(18, 4) as chargebacks,
        0::decimal(18, 4) as credits,
        0 as failed_payments, 0 as charge_attempts, 0 as unpriced_payments, 0 as visits,
        null::timestamp as visit_at, null::timestamp as payment_at, null::varchar as payment_currency
    from tickets
    union all
    select customer_id, occurred_at, batch_id,
        0, 0, 0, 0, 0, 0, 0, 0, 0,
        -- succeeded money movements, converted to the reporting currency (no rate: null, unpriced)
        case when status = 'succeeded' and kind = 'charge' then health_amount_base(fx, amount, currency) else 0 end,
        case when status = 'succeeded' and kind = 'refund' then health_amount_base(fx, amount, currency) else 0 end,
        case when status = 'succeeded' and kind = 'chargeback' then health_amount_base(fx, amount, currency)
            else 0 end,
        case when status = 'succeeded' and kind = 'credit' then health_amount_base(fx, amount, currency) else 0 end,
        (kind = 'charge' and status = 'failed')::integer,
        (kind = 'charge' and status in ('succeeded', 'failed'))::integer,
        (health_amount_base(fx, amount, currency) is null)::integer,
        0, null, occurred_at, currency
    from payments
    union all
    select customer_id, occurred_at, batch_id,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        1, occurred_at, null, null
    from visits
)
select *
from facts
where (batch is null or batch_id = batch)
    and occurred_at >= coalesce(from_at, '-infinity'::timestamp)
    and occurred_at <= coalesce(to_at, 'infinity'::timestamp);

-- Facts (the rows of facts_src, a table or CTE shaped like health_event_facts) summed per customer and
-- UTC day (escalations: 0, see ticket_escalations).
create or replace macro health_day_rollup_of(facts_src) as table
select customer_id, occurred_at::date as day,
    sum(support_minutes)::decimal(18, 4) as support_minutes,
    sum(how_to_minutes)::decimal(18, 4) as how_to_minutes,
    sum(tickets_opened)::integer as tickets_opened,
    sum(complaints)::integer as complaints,
    sum(how_to_tickets)::integer as how_to_tickets,
    sum(legal_threats)::integer as legal_threats,
    0 as escalations,
    sum(compensation_requests)::integer as compensation_requests,
    sum(compensation_requested_native)::decimal(18, 4) as compensation_requested_native,
    sum(compensation_granted_native)::decimal(18, 4) as compensation_granted_native,
    coalesce(sum(charges), 0)::decimal(18, 4) as charges,
    coalesce(sum(refunds), 0)::decimal(18, 4) as refunds,
    coalesce(sum(chargebacks), 0)::decimal(18, 4) as chargebacks,
    coalesce(sum(credits), 0)::decimal(18, 4) as credits,
    sum(failed_payments)::integer as failed_payments,
    sum(charge_attempts)::integer as charge_attempts,
    sum(unpriced_payments)::integer as unpriced_payments,
    sum(visits)::integer as visits,
    min(visit_at) as first_visit_at,
    max(visit_at) as last_visit_at,
    max(occurred_at) as last_activity_at,
    max(payment_at) as last_payment_at,
    arg_max(payment_currency, payment_at) as last_payment_currency
from query_table(facts_src)
group by customer_id, occurred_at::date;

-- Rows shaped like health_day_rollup_of's (days_src, a table or CTE, several rows per customer and day)
-- summed to one per customer and UTC day.
create or replace macro health_day_sums_of(days_src) as table
select customer_id, day,
    sum(support_minutes) as support_minutes, sum(how_to_minutes) as how_to_minutes,
    sum(tickets_opened) as tickets_opened, sum(complaints) as complaints, sum(how_to_tickets) as how_to_tickets,
    sum(legal_threats) as legal_threats, sum(escalations) as escalations,
    sum(compensation_requests) as compensation_requests,
    sum(compensation_requested_native) as compensation_requested_native,
    sum(compensation_granted_native) as compensation_granted_native,
    sum(charges) as charges, sum(refunds) as refunds, sum(chargebacks) as chargebacks, sum(credits) as credits,
    sum(failed_payments) as failed_payments, sum(charge_attempts) as charge_attempts,
    sum(unpriced_payments) as unpriced_payments, sum(visits) as visits,
    min(first_visit_at) as first_visit_at, max(last_visit_at) as last_visit_at,
    max(last_activity_at) as last_activity_at, max(last_payment_at) as last_payment_at,
    arg_max(last_payment_currency, last_payment_at) as last_payment_currency
from query_table(days_src)
group by customer_id, day;

-- The landed events' facts (see health_event_facts) summed per customer and UTC day.
create or replace macro health_day_rollup(fx, batch, from_at, to_at) as table
with facts as (
    select * from health_event_facts(fx, batch, from_at, to_at)
)
select * from health_day_rollup_of('facts');

-- Tickets first escalated in [from_at, to_at], per customer and UTC day.
create or replace macro health_escalation_days(from_at, to_at) as table
select customer_id, escalated_at::date as day, count(*)::integer as escalations
from ticket_escalations
where escalated_at >= coalesce(from_at, '-infinity'::timestamp)
    and escalated_at <= coalesce(to_at, 'infinity'::timestamp)
group by customer_id, escalated_at::date;
