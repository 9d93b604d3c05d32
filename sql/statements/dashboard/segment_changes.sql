-- Segment changes since $since (UTC), newest first, with the customer's current name and next step.
select
    c.changed_at, c.customer_id, h.name, c.from_segment, c.to_segment, c.health_score,
    c.drifting_toward, c.days_to_threshold, h.segment as segment_now, h.next_step, h.kind, h.plan
from segment_changes as c
left join customer_health as h using (customer_id)
where c.changed_at >= $since
  and ($kind is null or h.kind = $kind)
  and ($plan is null or h.plan = $plan)
order by c.changed_at desc, c.customer_id
limit $limit;
