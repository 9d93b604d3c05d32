-- Segment moves since $since (UTC): how many customers went from one segment to another.
-- Filters: $kind, $plan (null = all).
select
    coalesce(c.from_segment, '(new)') as from_segment,
    c.to_segment,
    count(distinct c.customer_id)     as customers,
    count(*)                          as moves
from segment_changes as c
join customer_health as h using (customer_id)
where c.changed_at >= $since
  and ($kind is null or h.kind = $kind)
  and ($plan is null or h.plan = $plan)
group by all
order by customers desc, from_segment, c.to_segment;
