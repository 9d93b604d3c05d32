-- Table-suite frame: payments landed since $window_start (at most $max_rows, newest batches first).
-- amount in currency units; customer_status and minutes_ahead_of_now as in table_frame_tickets.
with recent_batches as (
    select batch_id, committed_at as landed_at from ingest_batches where committed_at >= $window_start
), windowed as (
    select p.*, b.landed_at
    from payments p
    join recent_batches b using (batch_id)
    order by p.batch_id desc
    limit $max_rows
)
select w.event_id, w.customer_id, w.invoice_id, w.kind, w.status, w.amount::double as amount, w.currency,
    (epoch_ms(w.occurred_at) - epoch_ms(e.future_edge)) / 60000.0 as minutes_ahead_of_now,
    case when c.customer_id is not null then 'known'
         when w.landed_at >= $grace_start then 'awaiting_profile'
         else 'unknown' end as customer_status
from windowed w
cross join (select health_future_edge($now::timestamp) as future_edge) e
left join customers c using (customer_id);
