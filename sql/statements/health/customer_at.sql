-- Known customers' health at $as_of computed from scratch (same columns as customer_health): one
-- customer or a segment or all, worst health first.
with computed as (
    select * from health_computed($params::json, $as_of::timestamp)
)
select *
from health_presented('computed', $as_of::timestamp)
where ($customer_id is null or customer_id = $customer_id)
    and ($segment is null or segment = $segment)
order by health_score, customer_id;
