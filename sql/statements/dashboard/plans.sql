-- The plans customers are on, for filters.
select distinct plan from customer_health where plan is not null order by plan;
