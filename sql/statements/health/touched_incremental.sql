-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Of the customers the batch touched (health_touched), only those derived incrementally stay: the pending ones
-- (another pipeline owns them, health/pend_unowned) and those this refresh computed from the rollups
-- (health/compute_pending) leave.
delete from health_touched
where not coalesce(customer_id not in (select customer_id from health_pending)
    and customer_id not in (select customer_id from health_refreshed where customer_id is not null), false);
