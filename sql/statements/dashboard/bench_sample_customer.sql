-- The benchmark's drill-down customer: the busiest one that belongs to a household.
select customer_id, household_id
from customer_health
where household_id is not null
order by support_minutes_90d desc, customer_id
limit 1;
