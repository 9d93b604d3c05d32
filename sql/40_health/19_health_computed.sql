-- Every customer's health at as_of, computed from scratch: the full refresh and the point-in-time
-- reads (customer-health customer --as-of). Windows: the 90 (30) UTC days ending with as_of's day,
-- cut at as_of: whole past days come from the customer_day rollup, as_of's own day from the landed
-- events up to as_of. The profile is the latest customer event at or before as_of. Portfolio norms
-- are computed over the known, not churned customers of this same evaluation. pj: the $params JSON.
create or replace macro health_computed(pj, as_of) as table
with bounds as (
    select as_of::timestamp as as_of, as_of::timestamp::date as today
),
profiles as (
    select customer_id, kind, plan, household_id, signed_up_at, cancelled_at
    from customer_events
    where occurred_at <= as_of::timestamp
    qualify row_number() over (
        partition by customer_id order by occurred_at desc, batch_id desc, event_id desc) = 1
),
days as (
    select cd.* from customer_day cd, bounds where cd.day < bounds.today
    union all by name
    select * from health_day_rollup((select health_fx(pj)), null, as_of::timestamp::date::timestamp, as_of::timestamp)
    union all by name
    select * from health_escalation_days(as_of::timestamp::date::timestamp, as_of::timestamp)
),
sums as (
    select customer_id,
        coalesce(sum(support_minutes) filter (where day >= today - 29), 0)::decimal(18, 4) as support_minutes_30d,
        coalesce(sum(support_minutes) filter (where day >= today - 89), 0)::decimal(18, 4) as support_minutes_90d,
        coalesce(sum(how_to_minutes) filter (where day >= today - 89), 0)::decimal(18, 4) as how_to_minutes_90d,
        coalesce(sum(tickets_opened) filter (where day >= today - 89), 0)::integer as tickets_90d,
        coalesce(sum(complaints) filter (where day >= today - 89), 0)::integer as complaints_90d,
        coalesce(sum(how_to_tickets) filter (where day >= today - 89), 0)::integer as how_to_tickets_90d,
        coalesce(sum(legal_threats) filter (where day >= today - 89), 0)::integer as legal_threats_90d,
        coalesce(sum(escalations) filter (where day >= today - 89), 0)::integer as escalations_90d,
        coalesce(sum(compensation_requests) filter (where day >= today - 89), 0)::integer
            as compensation_requests_90d,
        coalesce(sum(compensation_requested_native) filter (where day >= today - 89), 0)::decimal(18, 4)
            as compensation_requested_native_90d,
        coalesce(sum(compensation_granted_native) filter (where day >= today - 89), 0)::decimal(18, 4)
            as compensation_granted_native_90d,
        coalesce(sum(charges) filter (where day >= today - 89), 0)::decimal(18, 4) as charges_90d,
        coalesce(sum(refunds) filter (where day >= today - 89), 0)::decimal(18, 4) as refunds_90d,
        coalesce(sum(chargebacks) filter (where day >= today - 89), 0)::decimal(18, 4) as chargebacks_90d,
        coalesce(sum(credits) filter (where day >= today - 89), 0)::decimal(18, 4) as credits_90d,
        coalesce(sum(failed_payments) filter (where day >= today - 89), 0)::integer as failed_payments_90d,
        coalesce(sum(charge_attempts) filter (where day >= today - 89), 0)::integer as charge_attempts_90d,
        coalesce(sum(unpriced_payments) filter (where day >= today - 89), 0)::integer as unpriced_payments_90d,
        coalesce(sum(visits) filter (where day >= today - 89), 0)::integer as visits_90d,
        coalesce(sum(visits), 0)::integer as visits_total,
        min(first_visit_at) as first_visit_at,
        max(last_visit_at) as last_visit_at,
        max(last_activity_at) as last_activity_at,
        max(last_payment_at) as last_payment_at,
        arg_max(last_payment_currency, last_payment_at) as billing_currency
    from days, bounds
    group by customer_id
),
invoices as (
    select customer_id,
        count(*) filter (where health_is_overdue(first_seen_at, due_at, paid_at, (bounds.today - 89)::timestamp,
            bounds.as_of))::integer as overdue_invoices_90d
    from invoice_state, bounds
    where due_at >= (bounds.today - 89)::timestamp and (paid_at is null or paid_at > due_at)
    group by customer_id
),
ids as (
    select customer_id from profiles
    union select customer_id from sums
    union select customer_id from invoices
),
state as (
    select ids.customer_id, bounds.as_of, bounds.today as window_day, 'full' as refreshed_by,
        profiles.customer_id is not null as has_profile,
        profiles.kind, profiles.plan, profiles.household_id, profiles.signed_up_at, profiles.cancelled_at,
        coalesce(sums.support_minutes_30d, 0)::decimal(18, 4) as support_minutes_30d,
        coalesce(sums.support_minutes_90d, 0)::decimal(18, 4) as support_minutes_90d,
        coalesce(sums.how_to_minutes_90d, 0)::decimal(18, 4) as how_to_minutes_90d,
        coalesce(sums.tickets_90d, 0) as tickets_90d,
        coalesce(sums.complaints_90d, 0) as complaints_90d,
        coalesce(sums.how_to_tickets_90d, 0) as how_to_tickets_90d,
        coalesce(sums.legal_threats_90d, 0) as legal_threats_90d,
        coalesce(sums.escalations_90d, 0) as escalations_90d,
        coalesce(sums.compensation_requests_90d, 0) as compensation_requests_90d,
        coalesce(sums.compensation_requested_native_90d, 0)::decimal(18, 4) as compensation_requested_native_90d,
        coalesce(sums.compensation_granted_native_90d, 0)::decimal(18, 4) as compensation_granted_native_90d,
        coalesce(sums.charges_90d, 0)::decimal(18, 4) as charges_90d,
        coalesce(sums.refunds_90d, 0)::decimal(18, 4) as refunds_90d,
        coalesce(sums.chargebacks_90d, 0)::decimal(18, 4) as chargebacks_90d,
        coalesce(sums.credits_90d, 0)::decimal(18, 4) as credits_90d,
        coalesce(sums.failed_payments_90d, 0) as failed_payments_90d,
        coalesce(sums.charge_attempts_90d, 0) as charge_attempts_90d,
        coalesce(sums.unpriced_payments_90d, 0) as unpriced_payments_90d,
        coalesce(sums.visits_90d, 0) as visits_90d,
        coalesce(sums.visits_total, 0) as visits_total,
        sums.first_visit_at, sums.last_visit_at, sums.last_activity_at, sums.last_payment_at,
        sums.billing_currency,
        coalesce(invoices.overdue_invoices_90d, 0) as overdue_invoices_90d,
        refs.baseline_at, refs.baseline_score, refs.baseline_segment, refs.baseline_components,
        refs.score_7d_ago, refs.score_30d_ago, refs.ref_at, refs.ref_margin_90d, refs.ref_complaint_index_90d,
        entered.entered_at as segment_since,
        null::struct(computed_at timestamp, customers integer, median_support_minutes_90d double,
                     median_complaint_index_90d double, median_margin_90d double) as norms
    from ids
    cross join bounds
    left join profiles using (customer_id)
    left join sums using (customer_id)
    left join invoices using (customer_id)
    left join (
        select customer_id, arg_max(to_segment, changed_at) as to_segment, max(changed_at) as entered_at
        from segment_changes
        where changed_at <= as_of::timestamp
        group by customer_id
    ) entered using (customer_id)
    left join health_refs(as_of::timestamp, (select health_params(pj).drift_lookback_days)) refs using (customer_id)
),
metrics as (
    select * from health_metrics_of('state', pj)
),
portfolio as (
    select {
        'computed_at': any_value(as_of),
        'customers': count(*)::integer,
        'median_support_minutes_90d': coalesce(median(support_minutes_90d::double), 0.0),
        'median_complaint_index_90d': coalesce(median(complaint_index_90d), 0.0),
        'median_margin_90d': coalesce(median(margin_90d), 0.0)
    } as n
    from metrics
    where has_profile and not churned
),
metrics_n as (
    select m.* replace (portfolio.n as norms) from metrics m, portfolio
)
-- segment_since: now when the segment differs from the last snapshot's, else the last recorded change
select * replace (
    case when segment is distinct from baseline_segment then as_of
        else coalesce(segment_since, baseline_at) end as segment_since)
from health_scored('metrics_n', pj);
