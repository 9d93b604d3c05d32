-- One customer's current health row; components as JSON text whatever their stored type; with the silent-churn
-- figures of the customer's last scoring (customer_churn; null before a purchase or a fitted model), 0 for a
-- churned customer (cancelled: P(alive) 0 in the health row, nothing more to expect or to lose).
select h.* replace (to_json(h.components)::varchar as components),
    case when h.segment = 'churned' then c.expected_tx_30d * 0 else c.expected_tx_30d end as expected_tx_30d,
    case when h.segment = 'churned' then c.expected_tx_90d * 0 else c.expected_tx_90d end as expected_tx_90d,
    case when h.segment = 'churned' then c.expected_value_90d * 0 else c.expected_value_90d end
        as expected_value_90d,
    case when h.segment = 'churned' then c.value_at_risk_90d * 0 else c.value_at_risk_90d end as value_at_risk_90d
from customer_health h
left join customer_churn c using (customer_id)
where h.customer_id = $customer_id;
