-- Revenue against cost to serve per customer (currency units, trailing 90 days) for a scatter plot:
-- at most $limit customers, the tenth with the largest absolute margins always included, the rest a
-- stable pseudo-random sample. customers_total: how many matched $kind and $plan (null = all). Churned
-- customers are left out.
with matching as (
    select customer_id, name, segment, kind, plan, revenue_90d, cost_to_serve_90d, margin_90d
    from customer_health
    where segment <> 'churned'
      and ($kind is null or kind = $kind)
      and ($plan is null or plan = $plan)
),
ranked as (
    select *, row_number() over (order by abs(margin_90d) desc, customer_id) as extremity,
        count(*) over () as customers_total
    from matching
)
select customer_id, name, segment, kind, plan, revenue_90d, cost_to_serve_90d, margin_90d, customers_total
from ranked
order by extremity <= $limit // 10 desc, hash(customer_id), customer_id
limit $limit;
