-- One customer's health over time (UTC), oldest first: score, segment, components (JSON text) and money
-- (currency units, trailing 90 days at each snapshot).
select snapshot_at, health_score, segment, to_json(components)::varchar as components, revenue_90d,
    cost_to_serve_90d, margin_90d
from health_snapshots
where customer_id = $customer_id and snapshot_at >= $since
order by snapshot_at;
