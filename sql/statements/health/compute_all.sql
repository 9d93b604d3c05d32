-- Full refresh at $now: every customer computed from scratch (health_computed). $daily: this is the
-- day's first full refresh, which snapshots every known customer.
insert into health_refreshed by name
select *,
    has_profile and segment is distinct from baseline_segment as segment_changed,
    case when has_profile and $daily::BOOLEAN then 'daily'
        when has_profile and segment is distinct from baseline_segment then 'segment_change' end
        as snapshot_reason
from health_computed($params::JSON, $now::TIMESTAMP);
