-- The BG/NBD input, kept up to date by the pipeline batch by batch: per customer, one entry per UTC day
-- (of occurred_at) with a succeeded charge, in day order. amount is that day's succeeded charges in the
-- reporting currency (health.currency, converted with health.fx_rates); null when none of them had a rate.
create table if not exists churn_transactions (
    customer_id varchar primary key,
    days        struct(day date, amount double)[] not null
);
