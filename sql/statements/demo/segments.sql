-- Customers per health segment, and how many drift toward a bad segment (for the demo's status line).
select
    segment,
    count(*) as customers,
    count(*) filter (where drifting_toward is not null) as drifting
from customer_health
group by segment
order by segment;
