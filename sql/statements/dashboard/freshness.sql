-- Freshness per event type: the newest event (occurred_at) and the commit time of the newest batch that
-- landed one. Times are UTC; the time since landed is seconds before $now (the wall clock: commits are stamped
-- on it), the newest event's age seconds before $model_now (the model's clock: with [clock] source = "events"
-- the events run ahead of the wall clock).
with newest as (
    select 'tickets' as event_type, count(*) as events, max(occurred_at) as newest_event_at,
        max(batch_id) as last_batch_id
    from tickets
    union all
    select 'payments', count(*), max(occurred_at), max(batch_id) from payments
    union all
    select 'visits', count(*), max(occurred_at), max(batch_id) from visits
    union all
    select 'customers', count(*), max(occurred_at), max(batch_id) from customer_events
)
select
    n.event_type,
    n.events,
    n.newest_event_at,
    b.committed_at                                     as last_landed_at,
    date_diff('second', b.committed_at, $now)          as seconds_since_landed,
    date_diff('second', n.newest_event_at, $model_now) as newest_event_age_seconds
from newest as n
left join ingest_batches as b on b.batch_id = n.last_batch_id
order by n.event_type;
