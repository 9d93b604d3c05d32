-- The BG/NBD input, kept up to date by the pipeline batch by batch: one row per customer and UTC day (of
-- occurred_at) with a succeeded charge. amount is that day's succeeded charges in the reporting currency
-- (health.currency, converted with health.fx_rates); null when none of them had a rate.
create table if not exists churn_days (
    customer_id varchar not null,
    day         date not null,
    amount      double,
    primary key (customer_id, day)
);
-- An earlier layout (one list of days per customer), rebuilt as churn_days from payments when needed.
drop table if exists churn_transactions;
