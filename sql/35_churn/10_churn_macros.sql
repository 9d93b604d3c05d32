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

-- P(alive) of the customers of src (any relation with customer_id and as_of) at their own as_of, from their
-- transactions up to that UTC day (churn_days) and the scoring fit. Customers without a transaction by
-- then, or without a converged fit, get no row.
create or replace macro churn_p_alive_of(src) as table
with fit as (
    select r, alpha, a, b, fit_id from churn_scoring_fit()
), summaries as (
    select s.customer_id, count(*) - 1 as x, (max(d.day) - min(d.day)) / 7.0 as t_x,
        (s.as_of::date - min(d.day)) / 7.0 as t_age
    from query_table(src) s
    join churn_days d on d.customer_id = s.customer_id and d.day <= s.as_of::date
    group by s.customer_id, s.as_of::date
)
select m.customer_id, churn_p_alive(m.x, m.t_x, m.t_age, fit.r, fit.alpha, fit.a, fit.b) as p_alive,
    fit.fit_id as churn_fit_id
from summaries m, fit;
