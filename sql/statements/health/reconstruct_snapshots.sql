-- The snapshot the pipeline would have taken at $at had it been running then, for every customer known at
-- $at whose history landed after the fact: no snapshot at or before $at other than a reconstructed one.
-- Drift and score changes are measured against snapshots a day or more old (health_refs), so without these a
-- history landed all at once would show no drift for a day. Exact: health_computed at a past instant reads
-- the customer_day rollup (a row per day) and the events up to $at, as `customer --as-of` does.
insert into health_snapshots
select nextval('health_snapshot_ids'), customer_id, as_of, 'reconstructed', health_score, segment, null,
    components, revenue_90d, cost_to_serve_90d, margin_90d, complaint_index_90d, support_minutes_90d::double
from (
    select c.*
    from health_computed($params::JSON, $at::TIMESTAMP) as c
    where c.has_profile
      and not exists (
          select 1
          from health_snapshots as s
          where s.customer_id = c.customer_id and s.snapshot_at <= $at::TIMESTAMP and s.reason <> 'reconstructed'
      )
    order by c.customer_id
);
