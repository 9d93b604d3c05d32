-- Table-suite frame: tickets landed since $window_start (at most $max_rows, newest batches first).
-- customer_status: 'known' (a profile exists), 'awaiting_profile' (none yet, landed after $grace_start),
-- 'unknown' (none, and landed before $grace_start). Landing times (committed_at) against the wall clock's
-- $window_start and $grace_start; minutes_ahead_of_now: occurred_at after the future edge
-- (health_future_edge($now), $now the wall clock: the later of it and the model's clock).
with recent_batches as (
    select batch_id, committed_at as landed_at from ingest_batches where committed_at >= $window_start
), windowed as (
    select t.*, b.landed_at
    from tickets t
    join recent_batches b using (batch_id)
    order by t.batch_id desc
    limit $max_rows
)
select w.event_id, w.customer_id, w.ticket_id, w.action, w.category, w.channel, w.handling_minutes, w.escalated,
    w.compensation_requested::double as compensation_requested,
    w.compensation_granted::double as compensation_granted,
    w.sentiment,
    (epoch_ms(w.occurred_at) - epoch_ms(e.future_edge)) / 60000.0 as minutes_ahead_of_now,
    case when c.customer_id is not null then 'known'
         when w.landed_at >= $grace_start then 'awaiting_profile'
         else 'unknown' end as customer_status
from windowed w
cross join (select health_future_edge($now::timestamp) as future_edge) e
left join customers c using (customer_id);
