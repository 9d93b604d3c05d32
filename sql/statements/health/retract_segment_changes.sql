-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- The refreshed customers' stored segment changes from their retract_from on that the refresh no longer
-- derives (a late event re-derived the path, a final step's change moved on) leave segment_changes; a stored
-- change that is the same move as the final step's (at as_of) stays, at its first time
-- (health/write_segment_changes).
delete from segment_changes as s
using health_refreshed as r
where r.segment_changed and s.customer_id = r.customer_id and s.changed_at >= r.retract_from
    and not list_contains(list_transform(r.new_changes, c -> c.changed_at::varchar || '|' || coalesce(c.from_segment, '') || '|' || c.to_segment),
        s.changed_at::varchar || '|' || coalesce(s.from_segment, '') || '|' || s.to_segment)
    and not list_contains(list_transform(list_filter(r.new_changes, c -> c.changed_at = r.as_of),
            c -> coalesce(c.from_segment, '') || '|' || c.to_segment),
        coalesce(s.from_segment, '') || '|' || s.to_segment);
