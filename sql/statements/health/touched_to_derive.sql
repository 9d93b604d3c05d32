-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Whether any customer the batch touched is derived incrementally (health_touched, after
-- health/touched_incremental). store = "ducklake" with derive_owned_only: a batch another pipeline committed
-- touches none this pipeline owns, and the incremental derivation (health/compute_touched) does not run.
select exists (select 1 from health_touched);
