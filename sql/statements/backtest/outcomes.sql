-- The backtest at $as_of over the horizon ($as_of, $horizon_end] (customer-health backtest): every customer
-- known (a profile dated up to as_of) and not churned at as_of, with the health score, components and
-- segment at as_of from the point-in-time evaluation (health_computed, the SQL of `customers --as-of`),
-- and what the landed events say happened next. fading_factor: what the weighted mean of the components was
-- multiplied by for the score (the visit trend). Times are UTC; money in the reporting currency.
--   active_before   a visit or a succeeded charge in (as_of - 30 days, as_of]: who can churn;
--   cancelled       the latest profile dated up to horizon_end was cancelled in (as_of, horizon_end];
--   silent          no visit and no succeeded charge in the horizon's last 30 days,
--                   (horizon_end - 30 days, horizon_end];
--   margin_horizon  the margin over the horizon: health_metrics_of's margin_90d on the horizon's sums
--                   (the same definition of margin, over another window);
--   has_baseline    a usual visit rate at as_of (health.fading_min_visits visits before its 30-day window):
--                   without one the score cannot see the customer fade.
with computed as (
    select * from health_computed($params::json, $as_of::timestamp)
),
population as (
    select customer_id, health_score, components, fading_factor, segment, usual_visits_30d is not null as has_baseline
    from computed
    where has_profile and not churned
),
activity as (
    select customer_id, occurred_at
    from visits
    where occurred_at > $as_of::timestamp - interval 30 days and occurred_at <= $horizon_end::timestamp
    union all
    select customer_id, occurred_at
    from payments
    where kind = 'charge' and status = 'succeeded'
        and occurred_at > $as_of::timestamp - interval 30 days and occurred_at <= $horizon_end::timestamp
),
active as (
    select customer_id,
        bool_or(occurred_at <= $as_of::timestamp) as active_before,
        bool_or(occurred_at > $horizon_end::timestamp - interval 30 days) as active_at_end
    from activity
    group by customer_id
),
profile_at_end as (
    select customer_id, cancelled_at
    from customer_events
    where occurred_at <= $horizon_end::timestamp
    qualify row_number() over (
        partition by customer_id order by occurred_at desc, batch_id desc, event_id desc) = 1
),
horizon_days as (
    select *
    from health_day_rollup(health_fx($params::json), null, $as_of::timestamp + interval 1 microsecond,
        $horizon_end::timestamp)
),
horizon_state as (
    select customer_id, $horizon_end::timestamp as as_of, $horizon_end::timestamp::date as window_day,
        null::timestamp as cancelled_at,
        sum(support_minutes) as support_minutes_90d, sum(how_to_minutes) as how_to_minutes_90d,
        sum(complaints) as complaints_90d, sum(legal_threats) as legal_threats_90d, 0 as escalations_90d,
        sum(compensation_requests) as compensation_requests_90d,
        sum(compensation_requested_native) as compensation_requested_native_90d,
        sum(compensation_granted_native) as compensation_granted_native_90d,
        sum(charges) as charges_90d, sum(refunds) as refunds_90d, sum(chargebacks) as chargebacks_90d,
        sum(credits) as credits_90d, sum(failed_payments) as failed_payments_90d,
        sum(charge_attempts) as charge_attempts_90d, 0 as overdue_invoices_90d,
        0 as visits_30d, sum(visits) as visits_total, min(first_visit_at) as first_visit_at, max(last_visit_at) as last_visit_at,
        arg_max(last_payment_currency, last_payment_at) as billing_currency
    from horizon_days
    group by customer_id
),
horizon_margin as (
    select customer_id, margin_90d as margin_horizon
    from health_metrics_of('horizon_state', $params::json)
)
select p.customer_id, p.health_score, p.segment,
    p.components.engagement as engagement, p.components.payment_behaviour as payment_behaviour,
    p.components.support_burden as support_burden, p.components.complaint_behaviour as complaint_behaviour,
    p.components.profitability as profitability, p.fading_factor, p.has_baseline,
    coalesce(a.active_before, false) as active_before,
    coalesce(e.cancelled_at > $as_of::timestamp and e.cancelled_at <= $horizon_end::timestamp, false) as cancelled,
    not coalesce(a.active_at_end, false) as silent,
    coalesce(m.margin_horizon, 0.0) as margin_horizon
from population p
left join active a using (customer_id)
left join profile_at_end e using (customer_id)
left join horizon_margin m using (customer_id)
order by p.customer_id;
