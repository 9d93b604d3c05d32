-- Per customer, the snapshots a state at as_of is compared with (from health_snapshots):
--   baseline: the latest snapshot taken before as_of ("what moved", and whether the segment changed), not
--        a reconstructed one: a history landed after the fact gives first segments, as it always did;
--   score_7d_ago / score_30d_ago: the latest snapshot at least 7 / 30 days before as_of;
--   ref: the latest snapshot at least lookback_days before as_of, else the earliest one at least a day
--        old: drift is projected from it.
create or replace macro health_refs(as_of, lookback_days) as table
select customer_id,
    max(snapshot_at) filter (where snapshot_at < as_of and reason <> 'reconstructed') as baseline_at,
    arg_max(health_score, snapshot_at) filter (where snapshot_at < as_of and reason <> 'reconstructed')
        as baseline_score,
    arg_max(segment, snapshot_at) filter (where snapshot_at < as_of and reason <> 'reconstructed')
        as baseline_segment,
    arg_max(components, snapshot_at) filter (where snapshot_at < as_of and reason <> 'reconstructed')
        as baseline_components,
    arg_max(health_score, snapshot_at) filter (where snapshot_at <= as_of - interval 7 days) as score_7d_ago,
    arg_max(health_score, snapshot_at) filter (where snapshot_at <= as_of - interval 30 days) as score_30d_ago,
    coalesce(
        max(snapshot_at) filter (where snapshot_at <= as_of - health_days(lookback_days)),
        min(snapshot_at) filter (where snapshot_at <= as_of - interval 1 day)) as ref_at,
    coalesce(
        arg_max(margin_90d, snapshot_at) filter (where snapshot_at <= as_of - health_days(lookback_days)),
        arg_min(margin_90d, snapshot_at) filter (where snapshot_at <= as_of - interval 1 day)) as ref_margin_90d,
    coalesce(
        arg_max(complaint_index_90d, snapshot_at) filter (where snapshot_at <= as_of - health_days(lookback_days)),
        arg_min(complaint_index_90d, snapshot_at) filter (where snapshot_at <= as_of - interval 1 day))
        as ref_complaint_index_90d
from health_snapshots
where snapshot_at <= as_of
group by customer_id;
