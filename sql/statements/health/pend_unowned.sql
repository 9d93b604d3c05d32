-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- store = "ducklake": the touched customers this pipeline does not own (health_batch_context.customers_topic)
-- are not derived: their state is stale from now on (health_pending).
insert or ignore into health_pending
select customer_id from health_touched
where customer_id is not null and customer_id not in (
    select customer_id from pipeline_owned_customers('health_touched', (select customers_topic from health_batch_context)));
