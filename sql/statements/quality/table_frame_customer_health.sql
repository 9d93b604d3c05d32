-- Table-suite frame: every row of customer_health, plus one row per customer with a profile (customers)
-- but no health row (has_health_row false). components (STRUCT or JSON) as columns, each 0-100.
select coalesce(h.customer_id, c.customer_id) as customer_id,
    h.customer_id is not null as has_health_row,
    h.health_score::double as health_score, h.segment, h.next_step, h.drifting_toward,
    try_cast(json_extract_string(to_json(h.components), '$.engagement') as double) as engagement,
    try_cast(json_extract_string(to_json(h.components), '$.payment_behaviour') as double) as payment_behaviour,
    try_cast(json_extract_string(to_json(h.components), '$.support_burden') as double) as support_burden,
    try_cast(json_extract_string(to_json(h.components), '$.complaint_behaviour') as double) as complaint_behaviour,
    try_cast(json_extract_string(to_json(h.components), '$.profitability') as double) as profitability,
    h.cost_to_serve_90d::double as cost_to_serve_90d,
    h.support_minutes_90d::double as support_minutes_90d
from customer_health h
full outer join customers c using (customer_id);
