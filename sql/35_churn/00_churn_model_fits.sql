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
