-- Whether the batches landed since the last full refresh (its batch_id) brought events dated on or before
-- $before: history landed after the fact, which the reconstructed snapshots (health/reconstruct_snapshots) do
-- not hold yet. Rows a daily compaction merged (batch_id null) need no look: that day's full refresh
-- reconstructs anyway. Live batches carry today's events only, so this is false in a running deployment.
select exists (
    select 1
    from customer_day
    where batch_id > coalesce((select max(batch_id) from health_refreshes where kind = 'full'), -1)
      and day <= $before::DATE
);
