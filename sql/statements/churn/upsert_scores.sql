-- Store the new scores (relation churn_scores), computed from fit $fit_id as of $as_of.
insert into customer_churn
select customer_id, $as_of, frequency, recency_weeks, age_weeks, p_alive, expected_tx_30d, expected_tx_90d,
    avg_charge, expected_value_90d, value_at_risk_90d, lifetime_value, $fit_id, $scored_at
from churn_scores
on conflict (customer_id) do update set
    as_of = excluded.as_of,
    frequency = excluded.frequency,
    recency_weeks = excluded.recency_weeks,
    age_weeks = excluded.age_weeks,
    p_alive = excluded.p_alive,
    expected_tx_30d = excluded.expected_tx_30d,
    expected_tx_90d = excluded.expected_tx_90d,
    avg_charge = excluded.avg_charge,
    expected_value_90d = excluded.expected_value_90d,
    value_at_risk_90d = excluded.value_at_risk_90d,
    lifetime_value = excluded.lifetime_value,
    fit_id = excluded.fit_id,
    scored_at = excluded.scored_at;
