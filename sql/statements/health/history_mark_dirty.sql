-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Batch $batch_id brought events dated before the last history point (late events): the history is
-- dirty from the earliest one's UTC day on. Returns that day (none when nothing is late).
insert into health_history_dirty
select min(occurred_at)::date, (select as_of from health_batch_context)
from (
    select occurred_at from health_batch_facts
    union all
    select e.occurred_at from customer_events as e join (select $batch_id::BIGINT as batch_id) as ctx
        on e.batch_id = ctx.batch_id
)
where occurred_at < (select max(as_of) from health_history_norms)
having count(*) > 0
returning since;
