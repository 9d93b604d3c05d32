-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Valid visits of the batch; an event_id already stored (or repeated in the batch) lands once.
insert into visits
select event_id, customer_id, occurred_at, session_id, channel, duration_seconds, pages, extra, $batch_id::BIGINT
from checked_visits
where len(problems) = 0
qualify row_number() over (partition by event_id order by ordinal) = 1
on conflict do nothing;
