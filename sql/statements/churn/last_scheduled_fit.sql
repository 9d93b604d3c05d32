-- When the model was last fitted (any trigger, converged or not): the pipeline's refit schedule runs from it.
select max(fitted_at) from churn_model_fits;
