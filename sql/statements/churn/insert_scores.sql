-- Store the new scores (table churn_scores), computed from fit $fit_id as of $as_of.
insert into customer_churn
select customer_id, $as_of, frequency, recency_weeks, age_weeks, p_alive, expected_tx_30d, expected_tx_90d,
    avg_charge, expected_value_90d, value_at_risk_90d, lifetime_value, $fit_id, $scored_at
from churn_scores;
