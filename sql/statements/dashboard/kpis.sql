-- Headline figures of the live page for the customers matching the filters ($kind, $plan, $segment: null =
-- all). Money in the accounts' currency units over the trailing 90 days, of the active (not churned)
-- customers as on the Portfolio page (portfolio_ranked), or of the chosen $segment, churned included when
-- chosen. unprofitable is the segment (margin below 0, not a terrorist); margin_below_zero counts every
-- active customer with a margin below 0, terrorists included (as `customer-health what-if` and the
-- Portfolio page's unprofitable tail). $now is UTC; segment changes: into or out of $segment.
with matching as (
    select segment, health_score, drifting_toward, revenue_90d, cost_to_serve_90d, margin_90d, refreshed_at,
        segment <> 'churned' or $segment is not null as counted_in_money
    from customer_health
    where ($kind is null or kind = $kind)
      and ($plan is null or plan = $plan)
      and ($segment is null or segment = $segment)
)
select
    count(*)                                                          as customers,
    count(*) filter (where segment <> 'churned')                      as active_customers,
    avg(health_score) filter (where segment <> 'churned')             as average_health,
    count(*) filter (where segment = 'champion')                      as champions,
    count(*) filter (where segment = 'at_risk')                       as at_risk,
    count(*) filter (where segment = 'unprofitable')                  as unprofitable,
    count(*) filter (where segment = 'terrorist')                     as terrorists,
    count(*) filter (where segment <> 'churned' and margin_90d < 0)   as margin_below_zero,
    count(*) filter (where drifting_toward is not null)               as drifting,
    coalesce(sum(revenue_90d) filter (where counted_in_money), 0)     as revenue_90d,
    coalesce(sum(cost_to_serve_90d) filter (where counted_in_money), 0) as cost_to_serve_90d,
    coalesce(sum(margin_90d) filter (where counted_in_money), 0)      as margin_90d,
    max(refreshed_at)                                                 as refreshed_at,
    (select count(*)
     from segment_changes as c
     join customers as p using (customer_id)
     where c.changed_at >= $now - interval 24 hour
       and ($kind is null or p.kind = $kind)
       and ($plan is null or p.plan = $plan)
       and ($segment is null or c.to_segment = $segment or c.from_segment = $segment)) as segment_changes_24h
from matching;
