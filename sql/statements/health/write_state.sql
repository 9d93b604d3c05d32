-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Store the refreshed rows (their previous rows are gone: health/delete_state); a customer just
-- snapshotted has that snapshot as its new baseline.
insert into health_state by name
select * exclude (snapshot_reason, segment_changed) replace (
    case when snapshot_reason is not null then as_of else baseline_at end as baseline_at,
    case when snapshot_reason is not null then health_score else baseline_score end as baseline_score,
    case when snapshot_reason is not null then segment else baseline_segment end as baseline_segment,
    case when snapshot_reason is not null then components else baseline_components end as baseline_components)
from health_refreshed;
