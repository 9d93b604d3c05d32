-- The evidence timeline of customer $customer_id from $since to $as_of, oldest first: every ticket event
-- (complaints, compensation claims, escalations, legal threats, and the support minutes of all tickets),
-- failed payments and chargebacks, invoices unpaid at $as_of (at their due date) and the interventions
-- tried. evidence: the row shows complaint-driven behaviour, a payment problem or an intervention.
with ticket_rows as (
    select occurred_at, 'ticket' as source, ticket_id as reference, category as kind,
        concat_ws(' · ', action, channel,
            if(escalated, 'escalated to a manager', null),
            if(compensation_requested > 0, 'compensation requested ' || compensation_requested, null),
            if(compensation_granted > 0, 'compensation granted ' || compensation_granted, null),
            if(sentiment is not null, 'sentiment ' || sentiment, null)) as detail,
        handling_minutes as support_minutes,
        coalesce(compensation_granted, compensation_requested)::double as amount,
        null::varchar as currency,
        category in ('complaint', 'compensation_request', 'legal_threat') or escalated
            or coalesce(compensation_requested, 0) > 0 or coalesce(compensation_granted, 0) > 0 as evidence
    from tickets
    where customer_id = $customer_id and occurred_at >= $since::timestamp and occurred_at <= $as_of::timestamp
),
payment_rows as (
    select occurred_at, 'payment', invoice_id, if(status = 'failed', 'failed_payment', kind),
        kind || ' ' || status, null::double, amount::double, currency, true
    from payments
    where customer_id = $customer_id and occurred_at >= $since::timestamp and occurred_at <= $as_of::timestamp
        and (status = 'failed' or kind = 'chargeback')
),
unpaid_rows as (
    select due_at, 'invoice', invoice_id, 'unpaid_invoice',
        'due ' || strftime(due_at, '%Y-%m-%d %H:%M') || ' UTC, first charged '
            || strftime(first_seen_at, '%Y-%m-%d %H:%M') || ' UTC, unpaid at the report time', null::double,
        null::double, null::varchar, true
    from invoice_state
    where customer_id = $customer_id and due_at >= $since::timestamp and due_at <= $as_of::timestamp
        and first_seen_at <= $as_of::timestamp and (paid_at is null or paid_at > $as_of::timestamp)
),
intervention_rows as (
    select tried_at, 'intervention', '#' || intervention_id, step,
        note || ' (recorded by ' || recorded_by || ')', null::double, null::double, null::varchar, true
    from interventions
    where customer_id = $customer_id and tried_at <= $as_of::timestamp
)
select * from ticket_rows
union all select * from payment_rows
union all select * from unpaid_rows
union all select * from intervention_rows
order by occurred_at, source, reference;
