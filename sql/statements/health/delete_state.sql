-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- The refreshed customers' previous rows leave health_state (health/write_state stores the new ones).
delete from health_state where customer_id in (select customer_id from health_refreshed);
