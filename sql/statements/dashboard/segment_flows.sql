-- Segment moves since $since (UTC): how many customers went from one segment to another. Filters on the
-- current profile: $kind, $plan (null = all).
select
    coalesce(c.from_segment, '(new)') as from_segment,
    c.to_segment,
    count(distinct c.customer_id)     as customers,
    count(*)                          as moves
from segment_changes as c
join customers as p using (customer_id)
where c.changed_at >= $since
  and ($kind is null or p.kind = $kind)
  and ($plan is null or p.plan = $plan)
group by all
order by customers desc, from_segment, c.to_segment;
