-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Whether any customer the batch touched is derived incrementally (health/compute_touched's `touched`: not
-- pending, not computed from the rollups by this refresh). store = "ducklake" with derive_owned_only: a batch
-- another pipeline committed touches none this pipeline owns, and the incremental refresh is skipped whole.
select exists (
    select 1 from health_touched
    where customer_id not in (select customer_id from health_pending)
        and customer_id not in (select customer_id from health_refreshed where customer_id is not null)
);
