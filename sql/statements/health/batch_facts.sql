-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- The health facts of the events landed by batch $batch_id, into health_batch_facts. The batch is joined
-- in (ctx) rather than compared with the parameter, which would have the prepared statement planned again
-- on every run; the join's dynamic filter still reaches the table scans, so a batch reads only its own
-- row groups. The exchange rates come from health_batch_context.
insert into health_batch_facts by name
select f.*
from health_event_facts((select fx from health_batch_context), null, null, null) as f
join (select $batch_id::BIGINT as batch_id) as ctx on f.batch_id = ctx.batch_id;
