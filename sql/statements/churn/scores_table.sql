-- The scores being stored (filled from the model's arrays by churn.model.score_customers), created once
-- per connection: columns in the order of the Arrow table it is filled from.
create temp table if not exists churn_scores (
    customer_id varchar,
    frequency bigint,
    recency_weeks double,
    age_weeks double,
    transactions bigint,
    lifetime_value double,
    avg_charge double,
    p_alive double,
    expected_tx_30d double,
    expected_tx_90d double,
    expected_value_90d double,
    value_at_risk_90d double
);
