-- Every BG/NBD fit (customer_health/churn), kept: parameters, log-likelihood and the data window.
-- Time unit: weeks (alpha is a rate per week). The window holds each customer's succeeded charges, one
-- transaction per customer and UTC day, from window_start through window_end (inclusive UTC days);
-- window_end is the UTC day of as_of. Times are UTC.
create sequence if not exists churn_fit_ids start 1;
create table if not exists churn_model_fits (
    fit_id         bigint primary key,  -- from sequence churn_fit_ids (no column default: breaks Quack 1.5.5)
    fitted_at      timestamp not null,
    as_of          timestamp not null,
    window_start   date not null,       -- the earliest first purchase in the window
    window_end     date not null,
    r              double not null,     -- purchase rate ~ Gamma(shape r, rate alpha)
    alpha          double not null,
    a              double not null,     -- dropout probability ~ Beta(a, b)
    b              double not null,
    log_likelihood double not null,
    customers      integer not null,    -- customers with at least one transaction in the window
    converged      boolean not null,    -- false: stored, but scoring keeps using the latest converged fit
    message        varchar not null,
    trigger        varchar not null,    -- schedule (the pipeline), manual (churn-model fit)
    duration_ms    double not null      -- reading the window and fitting
);

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

-- BG/NBD P(alive) in closed form (Fader, Hardie & Lee, "Computing P(alive) using the BG/NBD model"):
-- 1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x)), evaluated as 1 / (1 + e^d) so that
-- large exponents give 0, not an overflow. x repeat transactions, t_x recency and T age in weeks; the same
-- formula as customer_health.churn.bgnbd.p_alive.
create or replace macro churn_p_alive(x, t_x, t_age, r, alpha, a, b) as
    case when x = 0 then 1.0
        else 1.0 / (1.0 + exp(ln(a / (b + x - 1)) + (r + x) * ln((alpha + t_age) / (alpha + t_x))))
    end;

-- The fit customers are scored with: the converged fit with the latest as_of, then the latest fitted (a fit
-- of a past window, churn-model fit --as-of, does not replace the current model). No row: no converged fit.
create or replace macro churn_scoring_fit() as table
select *
from churn_model_fits
where converged
order by as_of desc, fit_id desc
limit 1;

-- P(alive) of the customers of src (any relation with customer_id and as_of; one row per pair) at their own as_of, from their
-- transactions up to that UTC day (churn_days) and the scoring fit. Customers without a transaction by
-- then, or without a converged fit, get no row.
create or replace macro churn_p_alive_of(src) as table
with fit as (
    select r, alpha, a, b, fit_id from churn_scoring_fit()
), summaries as (
    select s.customer_id, s.as_of, count(*) - 1 as x, (max(d.day) - min(d.day)) / 7.0 as t_x,
        (s.as_of::date - min(d.day)) / 7.0 as t_age
    from query_table(src) s
    join churn_days d on d.customer_id = s.customer_id and d.day <= s.as_of::date
    group by s.customer_id, s.as_of
)
select m.customer_id, m.as_of, churn_p_alive(m.x, m.t_x, m.t_age, fit.r, fit.alpha, fit.a, fit.b) as p_alive,
    fit.fit_id as churn_fit_id
from summaries m, fit;
