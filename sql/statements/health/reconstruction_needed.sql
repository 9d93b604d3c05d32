-- Whether a customer known at $at (a profile at or before it) has no snapshot taken at or before $at other
-- than a reconstructed one: their history landed after the fact (a first load, the demo's backfill), and
-- health/reconstruct_snapshots has something to do at $at.
select exists (
    select 1
    from customer_events as e
    where e.occurred_at <= $at::TIMESTAMP
      and not exists (
          select 1
          from health_snapshots as s
          where s.customer_id = e.customer_id and s.snapshot_at <= $at::TIMESTAMP and s.reason <> 'reconstructed'
      )
);
