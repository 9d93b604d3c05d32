-- Whether an invoice is overdue at as_of for a window starting at window_start: due in
-- [window_start, as_of], seen by as_of and not paid by as_of.
create or replace macro health_is_overdue(first_seen_at, due_at, paid_at, window_start, as_of) as
    due_at >= window_start and due_at <= as_of and first_seen_at <= as_of and (paid_at is null or paid_at > as_of);

-- Units of a currency per reporting unit (the reporting currency itself when unknown or unpriced).
create or replace macro health_rate(hp, currency) as
    coalesce(map_extract_value(hp.fx, coalesce(currency, hp.currency)), 1.0);

-- The metrics of the state rows of state_src (a CTE or table shaped like health_state's state columns,
-- overdue_invoices_90d included).
-- Money rounded to cents in the reporting currency (compensation converted from the billing currency);
-- shares in [0, 1]; days fractional. cost_to_serve_90d is the sum of its three rounded parts. p_alive: the
-- silent-churn model's P(alive) at as_of (sql/35_churn; null without a purchase or a fitted model).
create or replace macro health_metrics_of(state_src, pj) as table
with params as materialized (
    select health_params(pj) as hp
),
parts as (
    select s.*,
        (s.window_day - 89)::timestamp as window_start,
        round((s.charges_90d - s.refunds_90d - s.chargebacks_90d - s.credits_90d)::double, 2) as revenue_90d,
        round(s.compensation_granted_native_90d::double / health_rate(params.hp, s.billing_currency), 2)
            as compensation_granted_90d,
        round(s.compensation_requested_native_90d::double / health_rate(params.hp, s.billing_currency), 2)
            as compensation_requested_amount_90d,
        round(s.support_minutes_90d::double * params.hp.cost_per_support_minute, 2) as support_cost_90d,
        round(s.failed_payments_90d * params.hp.cost_per_failed_payment, 2) as failed_payment_cost_90d,
        round(params.hp.cw_complaint * s.complaints_90d
            + params.hp.cw_compensation_request * s.compensation_requests_90d
            + params.hp.cw_legal_threat * s.legal_threats_90d
            + params.hp.cw_escalation * s.escalations_90d, 2) as complaint_index_90d,
        coalesce(round(s.how_to_minutes_90d::double / nullif(s.support_minutes_90d::double, 0), 4), 0.0)
            as how_to_share_90d,
        round(epoch(s.as_of - s.last_visit_at) / 86400, 2) as days_since_last_visit,
        case when s.visits_total >= 2
            then round(epoch(s.last_visit_at - s.first_visit_at) / 86400 / (s.visits_total - 1), 2)
        end as usual_visit_gap_days,
        coalesce(s.visits_total >= params.hp.fading_min_visits
            and epoch(s.as_of - s.last_visit_at) / 86400 >= params.hp.fading_gap_multiple * greatest(
                epoch(s.last_visit_at - s.first_visit_at) / 86400 / (s.visits_total - 1),
                params.hp.fading_min_gap_days), false) as fading,
        coalesce(s.cancelled_at <= s.as_of, false) as churned,
        churn.p_alive
    from query_table(state_src) s
    cross join params
    left join churn_p_alive_of(state_src) churn using (customer_id)
)
select parts.*,
    round(support_cost_90d + compensation_granted_90d + failed_payment_cost_90d, 2) as cost_to_serve_90d,
    round(revenue_90d - (support_cost_90d + compensation_granted_90d + failed_payment_cost_90d), 2)
        as margin_90d,
    failed_payments_90d + overdue_invoices_90d as payment_problems_90d,
    coalesce(round((failed_payments_90d + overdue_invoices_90d)
        / nullif(charge_attempts_90d + overdue_invoices_90d, 0), 4), 0.0) as payment_problem_share_90d
from parts;
