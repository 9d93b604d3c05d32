-- Segment changes with change_seq in ($after, $upto], netted per customer: the segment before the first live
-- change and the segment after the last change, so transient states of a replayed backlog collapse. Changes
-- landed by a file backfill (batch source 'file:...') move the baseline but are never news by themselves.
with changes as (
    select change_seq, customer_id, changed_at, from_segment, to_segment, health_score,
        drifting_toward, days_to_threshold, batch_id
    from segment_changes
    where change_seq > $after and change_seq <= $upto
), origin as (
    select c.*, coalesce(b.source, 'refresh') as batch_source
    from changes c
    left join ingest_batches b using (batch_id)
), netted as (
    -- arg_min_null/arg_max_null: a null (no segment yet, no drift) is a value here, not a gap to skip.
    select customer_id,
        arg_min_null(from_segment, change_seq) filter (where batch_source not like 'file:%') as from_segment,
        arg_max_null(to_segment, change_seq) as to_segment,
        arg_max_null(health_score, change_seq) as health_score,
        arg_max_null(drifting_toward, change_seq) as drifting_toward,
        arg_max_null(days_to_threshold, change_seq) as days_to_threshold,
        arg_max_null(batch_source, change_seq) as last_source,
        max(changed_at) as changed_at,
        count(*) as changes
    from origin
    group by customer_id
)
select n.customer_id, c.name, n.from_segment, n.to_segment, n.health_score, n.drifting_toward,
    n.days_to_threshold, n.changed_at, n.changes
from netted n
left join customers c using (customer_id)
where n.last_source not like 'file:%'
order by n.customer_id;
