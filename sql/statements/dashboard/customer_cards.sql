-- The customers a search finds ($search: part of the id or the name, ignoring case), exact id first, at
-- most $limit, with their next step: the live page's cards. Filters: $kind, $plan, $segment (null = all).
select customer_id, name, segment, health_score, p_alive, drifting_toward, days_to_threshold, next_step,
    refreshed_at
from customer_health
where (customer_id ilike '%' || $search || '%' or name ilike '%' || $search || '%')
  and ($kind is null or kind = $kind)
  and ($plan is null or plan = $plan)
  and ($segment is null or segment = $segment)
order by lower(customer_id) = lower($search) desc, health_score asc, customer_id
limit $limit;
