-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Batch-suite frame: the valid visits of the batch being landed (checked_visits), with the columns the
-- batch-scope expectations read (and the ids). duration in seconds; minutes_ahead_of_now: occurred_at after
-- the batch's future edge (health_future_edge($now), $now the wall clock: the later of it and the model's
-- clock before this batch; minutes, negative = past).
select ordinal, event_id, customer_id, duration_seconds, pages,
    (epoch_ms(occurred_at) - epoch_ms(e.future_edge)) / 60000.0 as minutes_ahead_of_now
from checked_visits, (select health_future_edge($now::TIMESTAMP) as future_edge) e
where len(problems) = 0
order by ordinal;
