-- The stored health rows of the freshness probe customers (bench/freshness.py --read state): the same
-- visits_90d, segment and health_score the customer_health view shows, without the view's read-time
-- presentation (next step, household flags), which adds nothing to how fresh the row is.
select customer_id, visits_90d, segment, health_score
from health_state
where customer_id like 'PROBE-%' and has_profile;
