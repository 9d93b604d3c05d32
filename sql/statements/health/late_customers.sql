-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- The customers of the batch (health_batch_facts) with an event of the day (after its 00:00 point, up to the refresh's time)
-- at or before the last step of their stored path: late, their path is derived again from their earliest such
-- event (health_late); of those derived incrementally (health_touched, after health/touched_incremental).
-- Returns them.
insert into health_late
select f.customer_id, min(f.occurred_at) as from_time
from health_batch_facts as f
join health_batch_context as c on f.occurred_at > c.as_of::date::timestamp and f.occurred_at <= c.as_of
join (select customer_id, path[-1].step_at as last_step from health_state where len(path) > 0) as s using (customer_id)
where f.customer_id in (select customer_id from health_touched)
group by f.customer_id
having min(f.occurred_at) <= any_value(s.last_step)
returning customer_id;
