-- "Silently fading": appended when a scoring moves a customer who used to be valuable (churn settings:
-- valuable_min_transactions, valuable_min_lifetime_value) from p_alive at or above
-- churn.alert_p_alive_below to below it. The alert source reads it incrementally by rowid.
-- batch_id: the landed batch whose scoring found it (null: a refit or a manual scoring). Times are UTC.
create table if not exists churn_fading (
    customer_id        varchar not null,
    detected_at        timestamp not null,  -- the as_of of the scoring
    previous_p_alive   double not null,
    p_alive            double not null,
    threshold          double not null,
    transactions       integer not null,
    lifetime_value     double not null,     -- reporting currency
    expected_value_90d double,
    fit_id             bigint not null,
    batch_id           bigint
);
