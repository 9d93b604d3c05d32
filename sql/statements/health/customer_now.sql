-- Known customers' current health as maintained (customer_health), one customer or a segment or all,
-- worst health first.
select *
from customer_health
where ($customer_id is null or customer_id = $customer_id)
    and ($segment is null or segment = $segment)
order by health_score, customer_id;
