-- The history grid in one pass: the state of every customer with a profile at each point of
-- [first_at, last_at] (00:00 UTC of consecutive days), as health_computed computes it at that instant one
-- point at a time, set-based over all points. Windows: the 90 (30) UTC days ending with the point's day;
-- the past days come from customer_day, summed once per customer as running totals: a window is the total
-- up to the day before the point less the total up to the day before the window; the point's own day holds
-- only what happened at 00:00 exactly (events and escalations at the point). The references to earlier
-- points are left null: no stored column of a point depends on them but the previous segment, which
-- health/history_grid_chain follows point by point. Money, minutes and units as in health_state.
create or replace macro health_grid_state(pj, first_at, last_at) as table
with points as (
    select range as as_of, range::date as today
    from range(first_at::timestamp, last_at::timestamp + interval 1 day, interval 1 day)
),
-- the profile events, one per customer and instant (the latest landed wins, as in health_computed)
profile_events as (
    select customer_id, occurred_at, kind, plan, household_id, signed_up_at, cancelled_at
    from customer_events
    where occurred_at <= last_at::timestamp
    qualify row_number() over (
        partition by customer_id, occurred_at order by batch_id desc, event_id desc) = 1
),
keys as (
    select c.customer_id, p.as_of, p.today
    from (select distinct customer_id from profile_events) c, points p
),
profiles as (
    select k.customer_id, k.as_of, k.today, e.kind, e.plan, e.household_id, e.signed_up_at, e.cancelled_at
    from keys k
    asof join profile_events e on e.customer_id = k.customer_id and k.as_of >= e.occurred_at
),
past_days as (
    select * from customer_day where day < last_at::timestamp::date
),
-- the day counts as bigint, and their running totals below likewise (cheaper to sum and to look up than the
-- 128-bit integers sum() gives; a count fits); money and minutes keep sum()'s precision, as a customer's
-- total over all its history may not fit decimal(18, 4) where its 90 days do
daily as (
    select * replace (
        tickets_opened::bigint as tickets_opened, complaints::bigint as complaints,
        how_to_tickets::bigint as how_to_tickets, legal_threats::bigint as legal_threats,
        escalations::bigint as escalations, compensation_requests::bigint as compensation_requests,
        failed_payments::bigint as failed_payments, charge_attempts::bigint as charge_attempts,
        unpriced_payments::bigint as unpriced_payments, visits::bigint as visits)
    from health_day_sums_of('past_days')
),
-- running totals per customer up to and including each day, and the customer's next day with a total
totals as (
    select customer_id, day,
        sum(support_minutes) over w as support_minutes, sum(how_to_minutes) over w as how_to_minutes,
        (sum(tickets_opened) over w)::bigint as tickets_opened, (sum(complaints) over w)::bigint as complaints,
        (sum(how_to_tickets) over w)::bigint as how_to_tickets,
        (sum(legal_threats) over w)::bigint as legal_threats, (sum(escalations) over w)::bigint as escalations,
        (sum(compensation_requests) over w)::bigint as compensation_requests,
        sum(compensation_requested_native) over w as compensation_requested_native,
        sum(compensation_granted_native) over w as compensation_granted_native,
        sum(charges) over w as charges, sum(refunds) over w as refunds, sum(chargebacks) over w as chargebacks,
        sum(credits) over w as credits, (sum(failed_payments) over w)::bigint as failed_payments,
        (sum(charge_attempts) over w)::bigint as charge_attempts,
        (sum(unpriced_payments) over w)::bigint as unpriced_payments, (sum(visits) over w)::bigint as visits,
        min(first_visit_at) over w as first_visit_at, max(last_visit_at) over w as last_visit_at,
        max(last_activity_at) over w as last_activity_at, max(last_payment_at) over w as last_payment_at,
        arg_max(last_payment_currency, last_payment_at) over w as last_payment_currency,
        lead(day) over (partition by customer_id order by day) as next_day
    from daily
    window w as (partition by customer_id order by day rows between unbounded preceding and current row)
),
-- the points each total is looked up by: with lag_days 0 (29, 89), the points whose day before them (before
-- their 30, 90 day window) falls in [the total's day, the customer's next day with a total)
served as (
    select customer_id, day, lag_days, unnest(range(
            greatest(day + 1 + lag_days, first_at::timestamp::date)::timestamp,
            least(coalesce(next_day + 1 + lag_days, last_at::timestamp::date + 1),
                  last_at::timestamp::date + 1)::timestamp,
            interval 1 day))::date as today
    from totals, (values (0), (29), (89)) lags(lag_days)
),
-- what happened at a point exactly (00:00 UTC): the point's own day up to the point
at_point_facts as (
    select * from health_event_facts((select health_fx(pj)), null, first_at::timestamp, last_at::timestamp)
    where occurred_at = occurred_at::date::timestamp
),
at_point_rows as (
    select * from health_day_rollup_of('at_point_facts')
    union all by name
    select customer_id, escalated_at::date as day, count(*)::integer as escalations
    from ticket_escalations
    where escalated_at >= first_at::timestamp and escalated_at <= last_at::timestamp
        and escalated_at = escalated_at::date::timestamp
    group by customer_id, escalated_at::date
),
at_point as (
    select * from health_day_sums_of('at_point_rows')
),
windowed as (
    select p.*,
        -- t: up to the day before the point; t30, t90: up to the day before the 30 (90) day window
        t.support_minutes as t_support_minutes, t30.support_minutes as t30_support_minutes,
        t90.support_minutes as t90_support_minutes,
        t.visits as t_visits, t30.visits as t30_visits, t90.visits as t90_visits,
        t.* exclude (customer_id, day, support_minutes, visits, next_day),
        t90.how_to_minutes as t90_how_to_minutes, t90.tickets_opened as t90_tickets_opened,
        t90.complaints as t90_complaints, t90.how_to_tickets as t90_how_to_tickets,
        t90.legal_threats as t90_legal_threats, t90.escalations as t90_escalations,
        t90.compensation_requests as t90_compensation_requests,
        t90.compensation_requested_native as t90_compensation_requested_native,
        t90.compensation_granted_native as t90_compensation_granted_native,
        t90.charges as t90_charges, t90.refunds as t90_refunds, t90.chargebacks as t90_chargebacks,
        t90.credits as t90_credits, t90.failed_payments as t90_failed_payments,
        t90.charge_attempts as t90_charge_attempts, t90.unpriced_payments as t90_unpriced_payments
    from profiles p
    left join served s on s.customer_id = p.customer_id and s.today = p.today and s.lag_days = 0
    left join totals t on t.customer_id = p.customer_id and t.day = s.day
    left join served s30 on s30.customer_id = p.customer_id and s30.today = p.today and s30.lag_days = 29
    left join (select customer_id, day, support_minutes, visits from totals) t30
        on t30.customer_id = p.customer_id and t30.day = s30.day
    left join served s90 on s90.customer_id = p.customer_id and s90.today = p.today and s90.lag_days = 89
    left join totals t90 on t90.customer_id = p.customer_id and t90.day = s90.day
),
invoices as (
    select i.customer_id, p.as_of,
        count(*) filter (where health_is_overdue(i.first_seen_at, i.due_at, i.paid_at, (p.today - 89)::timestamp,
            p.as_of))::integer as overdue_invoices_90d
    from invoice_state i
    join points p on i.due_at >= (p.today - 89)::timestamp and i.due_at <= p.as_of and i.first_seen_at <= p.as_of
    where i.paid_at is null or i.paid_at > i.due_at
    group by i.customer_id, p.as_of
)
select w.customer_id, w.as_of, w.today as window_day, 'full' as refreshed_by, true as has_profile,
    w.kind, w.plan, w.household_id, w.signed_up_at, w.cancelled_at,
    (coalesce(w.t_support_minutes, 0) - coalesce(w.t30_support_minutes, 0) + coalesce(a.support_minutes, 0))
        ::decimal(18, 4) as support_minutes_30d,
    (coalesce(w.t_support_minutes, 0) - coalesce(w.t90_support_minutes, 0) + coalesce(a.support_minutes, 0))
        ::decimal(18, 4) as support_minutes_90d,
    (coalesce(w.how_to_minutes, 0) - coalesce(w.t90_how_to_minutes, 0) + coalesce(a.how_to_minutes, 0))
        ::decimal(18, 4) as how_to_minutes_90d,
    (coalesce(w.tickets_opened, 0) - coalesce(w.t90_tickets_opened, 0) + coalesce(a.tickets_opened, 0))
        ::integer as tickets_90d,
    (coalesce(w.complaints, 0) - coalesce(w.t90_complaints, 0) + coalesce(a.complaints, 0))::integer
        as complaints_90d,
    (coalesce(w.how_to_tickets, 0) - coalesce(w.t90_how_to_tickets, 0) + coalesce(a.how_to_tickets, 0))::integer
        as how_to_tickets_90d,
    (coalesce(w.legal_threats, 0) - coalesce(w.t90_legal_threats, 0) + coalesce(a.legal_threats, 0))::integer
        as legal_threats_90d,
    (coalesce(w.escalations, 0) - coalesce(w.t90_escalations, 0) + coalesce(a.escalations, 0))::integer
        as escalations_90d,
    (coalesce(w.compensation_requests, 0) - coalesce(w.t90_compensation_requests, 0)
        + coalesce(a.compensation_requests, 0))::integer as compensation_requests_90d,
    (coalesce(w.compensation_requested_native, 0) - coalesce(w.t90_compensation_requested_native, 0)
        + coalesce(a.compensation_requested_native, 0))::decimal(18, 4) as compensation_requested_native_90d,
    (coalesce(w.compensation_granted_native, 0) - coalesce(w.t90_compensation_granted_native, 0)
        + coalesce(a.compensation_granted_native, 0))::decimal(18, 4) as compensation_granted_native_90d,
    (coalesce(w.charges, 0) - coalesce(w.t90_charges, 0) + coalesce(a.charges, 0))::decimal(18, 4) as charges_90d,
    (coalesce(w.refunds, 0) - coalesce(w.t90_refunds, 0) + coalesce(a.refunds, 0))::decimal(18, 4) as refunds_90d,
    (coalesce(w.chargebacks, 0) - coalesce(w.t90_chargebacks, 0) + coalesce(a.chargebacks, 0))::decimal(18, 4)
        as chargebacks_90d,
    (coalesce(w.credits, 0) - coalesce(w.t90_credits, 0) + coalesce(a.credits, 0))::decimal(18, 4) as credits_90d,
    (coalesce(w.failed_payments, 0) - coalesce(w.t90_failed_payments, 0) + coalesce(a.failed_payments, 0))
        ::integer as failed_payments_90d,
    (coalesce(w.charge_attempts, 0) - coalesce(w.t90_charge_attempts, 0) + coalesce(a.charge_attempts, 0))
        ::integer as charge_attempts_90d,
    (coalesce(w.unpriced_payments, 0) - coalesce(w.t90_unpriced_payments, 0) + coalesce(a.unpriced_payments, 0))
        ::integer as unpriced_payments_90d,
    (coalesce(w.t_visits, 0) - coalesce(w.t90_visits, 0) + coalesce(a.visits, 0))::integer as visits_90d,
    (coalesce(w.t_visits, 0) - coalesce(w.t30_visits, 0) + coalesce(a.visits, 0))::integer as visits_30d,
    (coalesce(w.t_visits, 0) + coalesce(a.visits, 0))::integer as visits_total,
    least(w.first_visit_at, a.first_visit_at) as first_visit_at,
    greatest(w.last_visit_at, a.last_visit_at) as last_visit_at,
    greatest(w.last_activity_at, a.last_activity_at) as last_activity_at,
    greatest(w.last_payment_at, a.last_payment_at) as last_payment_at,
    case when a.last_payment_at is not null and (w.last_payment_at is null or a.last_payment_at > w.last_payment_at)
        then a.last_payment_currency else w.last_payment_currency end as billing_currency,
    coalesce(i.overdue_invoices_90d, 0) as overdue_invoices_90d,
    null::timestamp as baseline_at, null::double as baseline_score, null::varchar as baseline_segment,
    null::struct(engagement double, payment_behaviour double, support_burden double, complaint_behaviour double,
                 profitability double) as baseline_components,
    null::double as score_7d_ago, null::double as score_30d_ago, null::timestamp as ref_at,
    null::double as ref_margin_90d, null::double as ref_complaint_index_90d,
    null::timestamp as baseline_since, null::timestamp as segment_since, null::varchar as previous_segment,
    null::struct(computed_at timestamp, customers integer, median_support_minutes_90d double,
                 median_complaint_index_90d double, median_margin_90d double) as norms
from windowed w
left join at_point a on a.customer_id = w.customer_id and a.day = w.today
left join invoices i on i.customer_id = w.customer_id and i.as_of = w.as_of;

-- Every grid point's rows up to the segment rules (health_rule_inputs), with the norms of each point over
-- its known, not churned customers, as health_computed computes them at that point.
create or replace macro health_grid_rule_inputs(pj, first_at, last_at) as table
with state as (
    select * from health_grid_state(pj, first_at, last_at)
),
metrics as (
    select * from health_metrics_of('state', pj)
),
portfolio as (
    select as_of, {
        'computed_at': as_of,
        'customers': count(*)::integer,
        'median_support_minutes_90d': coalesce(median(support_minutes_90d::double), 0.0),
        'median_complaint_index_90d': coalesce(median(complaint_index_90d), 0.0),
        'median_margin_90d': coalesce(median(margin_90d), 0.0)
    } as n
    from metrics
    where not churned
    group by as_of
),
metrics_n as (
    select m.* replace (coalesce(p.n, {'computed_at': m.as_of, 'customers': 0, 'median_support_minutes_90d': 0.0,
        'median_complaint_index_90d': 0.0, 'median_margin_90d': 0.0}) as norms)
    from metrics m
    left join portfolio p using (as_of)
)
select * from health_rule_inputs('metrics_n', pj);
