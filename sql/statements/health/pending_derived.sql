-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- The pending customers this refresh derives (computed from the rollups, health/compute_pending): those this
-- pipeline owns now, or all of them when it does not derive by ownership (a reader).
select coalesce(list(customer_id order by customer_id), []::varchar[])
from health_pending
where not (select owned_only from health_batch_context)
    or customer_id in (
        select customer_id
        from pipeline_owned_customers('health_pending', (select customers_topic from health_batch_context)));
