-- Table-suite frame: every row of customer_health, with its components (0-100) as columns and whether the
-- customer is known (has a profile in customers). components may be a STRUCT or JSON.
select h.customer_id, h.health_score::double as health_score, h.segment, h.next_step, h.drifting_toward,
    try_cast(json_extract_string(to_json(h.components), '$.engagement') as double) as engagement,
    try_cast(json_extract_string(to_json(h.components), '$.payment_behaviour') as double) as payment_behaviour,
    try_cast(json_extract_string(to_json(h.components), '$.support_burden') as double) as support_burden,
    try_cast(json_extract_string(to_json(h.components), '$.complaint_behaviour') as double) as complaint_behaviour,
    try_cast(json_extract_string(to_json(h.components), '$.profitability') as double) as profitability,
    h.cost_to_serve_90d::double as cost_to_serve_90d,
    h.support_minutes_90d::double as support_minutes_90d,
    c.customer_id is not null as is_known_customer
from customer_health h
left join customers c using (customer_id);
