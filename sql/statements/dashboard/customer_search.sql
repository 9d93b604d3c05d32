-- Customers whose id or name contains $search (ignoring case): exact id first, then by name.
select customer_id, name, kind, plan, segment, health_score
from customer_health
where customer_id ilike '%' || $search || '%' or name ilike '%' || $search || '%'
order by lower(customer_id) = lower($search) desc, name, customer_id
limit $limit;
