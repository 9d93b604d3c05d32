-- Silent churn per customer with a transaction (a day with a succeeded charge), scored from a stored fit
-- (fit_id) as of as_of: the model's closed forms, refreshed by the pipeline for the customers each batch
-- touches and for everyone at each new fit and UTC day. Weeks from the first transaction day; money in the
-- reporting currency (null when no charge of the customer had an exchange rate). Times are UTC.
create table if not exists customer_churn (
    customer_id        varchar not null,  -- one row per customer (no key: scorings delete and re-insert
                                          -- their customers, far cheaper than upserts)
    as_of              timestamp not null,
    frequency          integer not null,  -- repeat transactions (after the first day) up to as_of
    recency_weeks      double not null,   -- last transaction day - first transaction day
    age_weeks          double not null,   -- UTC day of as_of - first transaction day
    p_alive            double not null,   -- P(still active at as_of)
    expected_tx_30d    double not null,   -- expected transactions in the next 30 days
    expected_tx_90d    double not null,   -- ... and 90 days
    avg_charge         double,            -- mean amount per transaction (day)
    expected_value_90d double,            -- expected_tx_90d * avg_charge
    value_at_risk_90d  double,            -- (1 - p_alive) * E[transactions in 90 days | active] * avg_charge
    lifetime_value     double,            -- succeeded charges up to as_of
    fit_id             bigint not null,
    scored_at          timestamp not null
);
