-- Visits landed per freshness probe customer (bench/freshness.py).
select customer_id, count(*)::integer as visits
from visits
where customer_id like 'PROBE-%'
group by customer_id;
