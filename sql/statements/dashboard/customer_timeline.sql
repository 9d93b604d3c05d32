-- Everything that happened to one customer since $since (UTC), newest first, at most $limit rows:
-- tickets (minutes of agent time; compensation in currency units), payments (amount in `currency`),
-- visits (duration in minutes) and profile changes.
select * from (
    select occurred_at, 'ticket' as event, ticket_id as reference,
        action || ' · ' || category || ' · ' || channel || if(escalated, ' · escalated', '') as detail,
        handling_minutes as minutes,
        coalesce(compensation_granted, compensation_requested)::double as amount,
        null::varchar as currency,
        case when compensation_granted is not null then 'compensation granted'
             when compensation_requested is not null then 'compensation requested' end as status
    from tickets
    where customer_id = $customer_id and occurred_at >= $since
    union all
    select occurred_at, 'payment', invoice_id, kind, null, amount::double, currency, status
    from payments
    where customer_id = $customer_id and occurred_at >= $since
    union all
    select occurred_at, 'visit', session_id, channel || coalesce(' · ' || pages || ' pages', ''),
        duration_seconds / 60.0, null, null, null
    from visits
    where customer_id = $customer_id and occurred_at >= $since
    union all
    select occurred_at, 'profile', event_id, plan || ' · ' || kind || if(cancelled_at is not null, ' · cancelled', ''),
        null, null, null, null
    from customer_events
    where customer_id = $customer_id and occurred_at >= $since
)
order by occurred_at desc, event, reference
limit $limit;
