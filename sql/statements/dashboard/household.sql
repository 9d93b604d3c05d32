-- The customers of one household with their current health (money in currency units, trailing 90 days).
select customer_id, name, kind, plan, segment, health_score, margin_90d, household_churn_flag
from customer_health
where household_id = $household_id
order by customer_id;
