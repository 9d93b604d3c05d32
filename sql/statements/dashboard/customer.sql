-- One customer's current health row; components as JSON text whatever their stored type; with the silent-churn
-- figures of the customer's last scoring (customer_churn; null before a purchase or a fitted model).
select h.* replace (to_json(h.components)::varchar as components),
    c.expected_tx_30d, c.expected_tx_90d, c.expected_value_90d, c.value_at_risk_90d
from customer_health h
left join customer_churn c using (customer_id)
where h.customer_id = $customer_id;
