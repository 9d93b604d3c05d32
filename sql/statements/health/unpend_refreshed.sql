-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- The refreshed customers are derived: they leave health_pending (a full refresh: everyone).
delete from health_pending where customer_id in (select customer_id from health_refreshed);
