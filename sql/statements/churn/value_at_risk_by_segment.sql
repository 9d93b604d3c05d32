-- Expected value of the next 90 days per health segment now, and the part of it at risk of silent churn
-- (reporting currency). value_at_risk_90d sums (1 - P(alive)) x E[purchases in 90 days | still active] x
-- average charge: what the customers would bring were they all still active, minus what they are expected
-- to bring. Customers without a churn score (no purchase yet, or no fitted model) count in customers only;
-- churned customers (cancelled) are left out, as in the other money views. Filters: $kind, $plan (null = all).
select
    h.segment,
    count(*)                   as customers,
    count(c.customer_id)       as scored_customers,
    avg(c.p_alive)             as average_p_alive,
    sum(c.expected_value_90d)  as expected_value_90d,
    sum(c.value_at_risk_90d)   as value_at_risk_90d
from customer_health h
left join customer_churn c using (customer_id)
where h.segment <> 'churned'
  and ($kind is null or h.kind = $kind)
  and ($plan is null or h.plan = $plan)
group by h.segment
order by coalesce(array_position(segments(), h.segment), 99), h.segment;
