-- Headline figures of the live page for the customers matching the filters ($kind, $plan: null = all).
-- Money in the accounts' currency units over the trailing 90 days; $now is UTC.
select
    count(*)                                                          as customers,
    count(*) filter (where segment <> 'churned')                      as active_customers,
    avg(health_score) filter (where segment <> 'churned')             as average_health,
    count(*) filter (where segment = 'champion')                      as champions,
    count(*) filter (where segment = 'at_risk')                       as at_risk,
    count(*) filter (where segment = 'unprofitable')                  as unprofitable,
    count(*) filter (where segment = 'terrorist')                     as terrorists,
    count(*) filter (where drifting_toward is not null)               as drifting,
    coalesce(sum(revenue_90d), 0)                                     as revenue_90d,
    coalesce(sum(cost_to_serve_90d), 0)                               as cost_to_serve_90d,
    coalesce(sum(margin_90d), 0)                                      as margin_90d,
    max(refreshed_at)                                                 as refreshed_at,
    (select count(*)
     from segment_changes as c
     join customers as p using (customer_id)
     where c.changed_at >= $now - interval 24 hour
       and ($kind is null or p.kind = $kind)
       and ($plan is null or p.plan = $plan))                         as segment_changes_24h
from customer_health
where ($kind is null or kind = $kind)
  and ($plan is null or plan = $plan);
