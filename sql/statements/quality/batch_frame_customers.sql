-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Batch-suite frame: the valid profile events of the batch being landed (checked_customers), with the
-- columns the batch-scope expectations read (and the ids). Offsets in minutes: after the batch's future edge
-- (health_future_edge($now), $now the wall clock: the later of it and the model's clock before this batch;
-- negative = past), and cancellation after sign-up (null: not cancelled).
select ordinal, event_id, customer_id,
    (epoch_ms(occurred_at) - epoch_ms(e.future_edge)) / 60000.0 as minutes_ahead_of_now,
    (epoch_ms(signed_up_at) - epoch_ms(e.future_edge)) / 60000.0 as signed_up_minutes_ahead_of_now,
    (epoch_ms(cancelled_at) - epoch_ms(signed_up_at)) / 60000.0 as cancelled_minutes_after_signup
from checked_customers, (select health_future_edge($now::TIMESTAMP) as future_edge) e
where len(problems) = 0
order by ordinal;
