-- One customer's segment changes, newest first (UTC).
select changed_at, from_segment, to_segment, health_score, drifting_toward, days_to_threshold
from segment_changes
where customer_id = $customer_id
order by changed_at desc;
