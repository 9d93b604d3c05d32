-- The refit schedule's inputs: when the model was last fitted (any trigger, converged or not), on how many
-- customers, and how many customers have a transaction now.
select (select max(fitted_at) from churn_model_fits),
    (select arg_max(customers, fit_id) from churn_model_fits),
    (select count(distinct customer_id) from churn_days);
