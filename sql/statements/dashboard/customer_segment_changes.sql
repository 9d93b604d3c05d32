-- One customer's confirmed segment history, newest first (UTC): the changes between consecutive history
-- points (health_history_changes; the first point gives the first segment) and the current state's change
-- from the last point.
select changed_at, from_segment, to_segment, health_score, drifting_toward, days_to_threshold
from (
    select changed_at, from_segment, to_segment, health_score, null::varchar as drifting_toward,
        null::double as days_to_threshold
    from health_history_changes
    where customer_id = $customer_id
    union all
    select as_of, baseline_segment, segment, health_score, drifting_toward, days_to_threshold
    from health_state
    where customer_id = $customer_id and has_profile and segment is distinct from baseline_segment
)
order by changed_at desc;
