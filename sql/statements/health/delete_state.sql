-- The refreshed customers' previous rows leave health_state (health/write_state stores the new ones).
delete from health_state where customer_id in (select customer_id from health_refreshed);
