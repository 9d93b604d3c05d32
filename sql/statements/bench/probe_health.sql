-- Health of the freshness probe customers as a client reads it (bench/freshness.py): visits_90d counts
-- the probe visits the health refresh has seen.
select customer_id, visits_90d, segment, health_score
from customer_health
where customer_id like 'PROBE-%';
