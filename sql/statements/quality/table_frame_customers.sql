-- Table-suite frame: profile events (customer_events) landed since $window_start (at most $max_rows,
-- newest batches first). Offsets in minutes as in batch_frame_customers (after health_future_edge($now), $now
-- the wall clock).
with recent_batches as (
    select batch_id from ingest_batches where committed_at >= $window_start
)
select e.event_id, e.customer_id, e.name, e.kind, e.plan, e.household_id,
    (epoch_ms(e.occurred_at) - epoch_ms(f.future_edge)) / 60000.0 as minutes_ahead_of_now,
    (epoch_ms(e.signed_up_at) - epoch_ms(f.future_edge)) / 60000.0 as signed_up_minutes_ahead_of_now,
    (epoch_ms(e.cancelled_at) - epoch_ms(e.signed_up_at)) / 60000.0 as cancelled_minutes_after_signup
from customer_events e
join recent_batches b using (batch_id)
cross join (select health_future_edge($now::timestamp) as future_edge) f
order by e.batch_id desc
limit $max_rows;
