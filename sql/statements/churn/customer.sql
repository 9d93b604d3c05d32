-- One customer's silent-churn figures (no row: no transaction yet, or no fit yet).
select c.customer_id, c.as_of, c.p_alive, c.expected_tx_30d, c.expected_tx_90d, c.expected_value_90d,
    c.value_at_risk_90d, c.avg_charge, c.lifetime_value, c.frequency, c.recency_weeks, c.age_weeks, c.fit_id,
    c.scored_at
from customer_churn c
where c.customer_id = $customer_id;
