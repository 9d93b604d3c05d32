-- Segment changes since $since (UTC), newest first, with the customer's name from the current profile.
-- Filters on the current profile: $kind, $plan (null = all); $segment: changes into or out of it (null =
-- all). (No join to customer_health: reading the next step for every customer would cost more than the
-- whole rest of the live page at 100k customers.)
with recent as (
    select c.changed_at, c.customer_id, c.from_segment, c.to_segment, c.health_score, c.drifting_toward,
        c.days_to_threshold
    from segment_changes as c
    where c.changed_at >= $since
      and ($segment is null or c.to_segment = $segment or c.from_segment = $segment)
      and (($kind is null and $plan is null)
           or c.customer_id in (select customer_id from customers
                                where ($kind is null or kind = $kind) and ($plan is null or plan = $plan)))
    order by c.changed_at desc, c.customer_id
    limit $limit
)
select r.changed_at, r.customer_id, p.name, r.from_segment, r.to_segment, r.health_score, r.drifting_toward,
    r.days_to_threshold, p.kind, p.plan
from recent as r
left join customers as p using (customer_id)
order by r.changed_at desc, r.customer_id;
