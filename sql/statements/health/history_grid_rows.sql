-- The history points in [$first_at, $last_at] in one pass (health_grid_rule_inputs) into health_grid_rows,
-- with what the history stores and what health/history_grid_chain follows point by point.
create or replace temp table health_grid_rows as
select customer_id, as_of, segment_inputs, health_score, components, revenue_90d, cost_to_serve_90d, margin_90d,
    complaint_index_90d, support_minutes_90d, norms
from health_grid_rule_inputs($params::JSON, $first_at::TIMESTAMP, $last_at::TIMESTAMP);
