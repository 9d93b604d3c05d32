-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Incremental refresh at the refresh's time (as_of) of the customers the batch touched: their
-- stored state plus the batch's deltas (events up to as_of; window sums only for days in the current
-- windows), re-derived with the latest portfolio norms. Cost grows with the batch and the touched customers, not with the events
-- stored: the batch's rows, their invoices and tickets (health_changed_*), the touched state rows and the
-- open invoices (outstanding ones only).
-- Precondition: health_state's windows end on as_of's UTC day (else a full refresh runs instead).
-- The time (as_of) and the settings come from health_batch_context and the batch is joined in, rather than
-- parameters in filters or passed to a table macro, which would have the prepared statement planned again on
-- every run (see health/batch_tables).
insert into health_refreshed by name
with bounds as (
    select as_of, as_of::date as today from health_batch_context
),
-- the touched customers derived incrementally (health/touched, then health/touched_incremental)
touched as (
    select customer_id from health_touched
),
deltas as (
    select customer_id,
        coalesce(sum(support_minutes) filter (where occurred_at >= (today - 29)::timestamp), 0)
            as support_minutes_30d,
        coalesce(sum(support_minutes) filter (where occurred_at >= (today - 89)::timestamp), 0)
            as support_minutes_90d,
        coalesce(sum(how_to_minutes) filter (where occurred_at >= (today - 89)::timestamp), 0) as how_to_minutes_90d,
        coalesce(sum(tickets_opened) filter (where occurred_at >= (today - 89)::timestamp), 0) as tickets_90d,
        coalesce(sum(complaints) filter (where occurred_at >= (today - 89)::timestamp), 0) as complaints_90d,
        coalesce(sum(how_to_tickets) filter (where occurred_at >= (today - 89)::timestamp), 0) as how_to_tickets_90d,
        coalesce(sum(legal_threats) filter (where occurred_at >= (today - 89)::timestamp), 0) as legal_threats_90d,
        coalesce(sum(compensation_requests) filter (where occurred_at >= (today - 89)::timestamp), 0)
            as compensation_requests_90d,
        coalesce(sum(compensation_requested_native) filter (where occurred_at >= (today - 89)::timestamp), 0)
            as compensation_requested_native_90d,
        coalesce(sum(compensation_granted_native) filter (where occurred_at >= (today - 89)::timestamp), 0)
            as compensation_granted_native_90d,
        coalesce(sum(charges) filter (where occurred_at >= (today - 89)::timestamp), 0) as charges_90d,
        coalesce(sum(refunds) filter (where occurred_at >= (today - 89)::timestamp), 0) as refunds_90d,
        coalesce(sum(chargebacks) filter (where occurred_at >= (today - 89)::timestamp), 0) as chargebacks_90d,
        coalesce(sum(credits) filter (where occurred_at >= (today - 89)::timestamp), 0) as credits_90d,
        coalesce(sum(failed_payments) filter (where occurred_at >= (today - 89)::timestamp), 0)
            as failed_payments_90d,
        coalesce(sum(charge_attempts) filter (where occurred_at >= (today - 89)::timestamp), 0)
            as charge_attempts_90d,
        coalesce(sum(unpriced_payments) filter (where occurred_at >= (today - 89)::timestamp), 0)
            as unpriced_payments_90d,
        coalesce(sum(visits) filter (where occurred_at >= (today - 89)::timestamp), 0) as visits_90d,
        coalesce(sum(visits) filter (where occurred_at >= (today - 29)::timestamp), 0) as visits_30d,
        coalesce(sum(visits), 0) as visits_total,
        min(visit_at) as first_visit_at,
        max(visit_at) as last_visit_at,
        max(occurred_at) as last_activity_at,
        max(payment_at) as last_payment_at,
        arg_max(payment_currency, payment_at) as billing_currency
    from health_batch_facts, bounds
    where occurred_at <= bounds.as_of
    group by customer_id
),
escalation_deltas as (
    select customer_id, sum(delta) as escalations_90d
    from (
        select customer_id, 1 as delta
        from health_changed_escalations, bounds
        where escalated_at is distinct from previous_escalated_at
            and escalated_at >= (today - 89)::timestamp and escalated_at <= as_of
        union all
        select customer_id, -1 as delta
        from health_changed_escalations, bounds
        where previous_escalated_at <> escalated_at
            and previous_escalated_at >= (today - 89)::timestamp and previous_escalated_at <= as_of
    )
    group by customer_id
),
overdue as (
    -- open_invoices already holds this batch's changed invoices (health/apply_changed_invoices)
    select customer_id,
        count(*) filter (where health_is_overdue(first_seen_at, due_at, paid_at, (today - 89)::timestamp,
            as_of))::integer as overdue_invoices_90d
    from open_invoices, bounds
    where customer_id in (select customer_id from touched)
    group by customer_id
),
stored as materialized (
    select customer_id, support_minutes_30d, support_minutes_90d, how_to_minutes_90d, tickets_90d, complaints_90d,
        how_to_tickets_90d, legal_threats_90d, escalations_90d, compensation_requests_90d,
        compensation_requested_native_90d, compensation_granted_native_90d, charges_90d, refunds_90d,
        chargebacks_90d, credits_90d, failed_payments_90d, charge_attempts_90d, unpriced_payments_90d, visits_90d,
        visits_30d, visits_total, first_visit_at, last_visit_at, last_activity_at, last_payment_at, billing_currency,
        baseline_at, baseline_score, baseline_segment, baseline_components, score_7d_ago,
        score_30d_ago, ref_at, ref_margin_90d, ref_complaint_index_90d, baseline_since,
        segment as state_segment, path, day_start
    from health_state
    where customer_id in (select customer_id from touched)
),
profiles as (
    select * from customers where customer_id in (select customer_id from touched)
),
norms as (
    select n from health_latest_norms()
),
state as materialized (
    select t.customer_id, bounds.as_of, bounds.today as window_day, 'incremental' as refreshed_by,
        p.customer_id is not null as has_profile,
        p.kind, p.plan, p.household_id, p.signed_up_at, p.cancelled_at,
        (coalesce(o.support_minutes_30d, 0) + coalesce(d.support_minutes_30d, 0))::decimal(18, 4)
            as support_minutes_30d,
        (coalesce(o.support_minutes_90d, 0) + coalesce(d.support_minutes_90d, 0))::decimal(18, 4)
            as support_minutes_90d,
        (coalesce(o.how_to_minutes_90d, 0) + coalesce(d.how_to_minutes_90d, 0))::decimal(18, 4)
            as how_to_minutes_90d,
        (coalesce(o.tickets_90d, 0) + coalesce(d.tickets_90d, 0))::integer as tickets_90d,
        (coalesce(o.complaints_90d, 0) + coalesce(d.complaints_90d, 0))::integer as complaints_90d,
        (coalesce(o.how_to_tickets_90d, 0) + coalesce(d.how_to_tickets_90d, 0))::integer as how_to_tickets_90d,
        (coalesce(o.legal_threats_90d, 0) + coalesce(d.legal_threats_90d, 0))::integer as legal_threats_90d,
        (coalesce(o.escalations_90d, 0) + coalesce(e.escalations_90d, 0))::integer as escalations_90d,
        (coalesce(o.compensation_requests_90d, 0) + coalesce(d.compensation_requests_90d, 0))::integer
            as compensation_requests_90d,
        (coalesce(o.compensation_requested_native_90d, 0) + coalesce(d.compensation_requested_native_90d, 0))
            ::decimal(18, 4) as compensation_requested_native_90d,
        (coalesce(o.compensation_granted_native_90d, 0) + coalesce(d.compensation_granted_native_90d, 0))
            ::decimal(18, 4) as compensation_granted_native_90d,
        (coalesce(o.charges_90d, 0) + coalesce(d.charges_90d, 0))::decimal(18, 4) as charges_90d,
        (coalesce(o.refunds_90d, 0) + coalesce(d.refunds_90d, 0))::decimal(18, 4) as refunds_90d,
        (coalesce(o.chargebacks_90d, 0) + coalesce(d.chargebacks_90d, 0))::decimal(18, 4) as chargebacks_90d,
        (coalesce(o.credits_90d, 0) + coalesce(d.credits_90d, 0))::decimal(18, 4) as credits_90d,
        (coalesce(o.failed_payments_90d, 0) + coalesce(d.failed_payments_90d, 0))::integer as failed_payments_90d,
        (coalesce(o.charge_attempts_90d, 0) + coalesce(d.charge_attempts_90d, 0))::integer as charge_attempts_90d,
        (coalesce(o.unpriced_payments_90d, 0) + coalesce(d.unpriced_payments_90d, 0))::integer
            as unpriced_payments_90d,
        (coalesce(o.visits_90d, 0) + coalesce(d.visits_90d, 0))::integer as visits_90d,
        (coalesce(o.visits_30d, 0) + coalesce(d.visits_30d, 0))::integer as visits_30d,
        (coalesce(o.visits_total, 0) + coalesce(d.visits_total, 0))::integer as visits_total,
        least(o.first_visit_at, d.first_visit_at) as first_visit_at,
        greatest(o.last_visit_at, d.last_visit_at) as last_visit_at,
        greatest(o.last_activity_at, d.last_activity_at) as last_activity_at,
        greatest(o.last_payment_at, d.last_payment_at) as last_payment_at,
        case when d.last_payment_at >= coalesce(o.last_payment_at, '-infinity'::timestamp)
            then d.billing_currency else o.billing_currency end as billing_currency,
        coalesce(ov.overdue_invoices_90d, 0) as overdue_invoices_90d,
        o.baseline_at, o.baseline_score, o.baseline_segment, o.baseline_components,
        o.score_7d_ago, o.score_30d_ago, o.ref_at, o.ref_margin_90d, o.ref_complaint_index_90d, o.baseline_since,
        o.baseline_since as segment_since, o.state_segment, o.day_start, o.path as stored_path,
        norms.n as norms
    from touched t
    cross join bounds
    cross join norms
    left join profiles p using (customer_id)
    left join stored o using (customer_id)
    left join deltas d using (customer_id)
    left join escalation_deltas e using (customer_id)
    left join overdue ov using (customer_id)
),
-- The confirmed segment's path through the day (health_path_of): an in-order customer steps at the batch's
-- own event times from the end of its stored path; a late one (health_late) again from its earliest event of
-- the batch, over its facts since the day's point (health_late_facts), keeping the steps before.
path_starts as (
    select f.customer_id, coalesce(l.from_time, min(f.occurred_at)) as from_time, l.customer_id is not null as late
    from health_batch_facts f
    cross join bounds
    left join health_late l on l.customer_id = f.customer_id
    where f.occurred_at > bounds.today::timestamp and f.occurred_at <= bounds.as_of
        and f.customer_id in (select customer_id from touched)
    group by f.customer_id, l.customer_id, l.from_time
),
starts as (
    select p.customer_id, p.from_time, p.late,
        list_filter(coalesce(o.path, []), x -> x.step_at < p.from_time) as prefix,
        coalesce(list_filter(coalesce(o.path, []), x -> x.step_at < p.from_time)[-1].segment, o.baseline_segment)
            as start_segment,
        case when p.late then o.day_start else {'first_visit_at': o.first_visit_at, 'last_visit_at': o.last_visit_at,
            'last_activity_at': o.last_activity_at, 'last_payment_at': o.last_payment_at,
            'billing_currency': o.billing_currency} end as base
    from path_starts p
    left join stored o using (customer_id)
),
step_facts as (
    select f.*, 0 as escalations
    from health_batch_facts f, bounds
    where f.occurred_at > bounds.today::timestamp and f.occurred_at <= bounds.as_of
        and f.customer_id not in (select customer_id from health_late)
        and f.customer_id in (select customer_id from touched)
    union all by name
    select customer_id, escalated_at as occurred_at, 1 as escalations
    from health_changed_escalations, bounds
    where escalated_at > bounds.today::timestamp and escalated_at <= bounds.as_of
        and customer_id not in (select customer_id from health_late)
        and customer_id in (select customer_id from touched)
    union all by name
    select * from health_late_facts
),
paths as (
    select * from health_path_of('state', 'step_facts', 'starts', (select params from health_batch_context))
),
pathed as (
    select s.*,
        coalesce(p.last_segment, s.stored_path[-1].segment, s.baseline_segment) as previous_segment,
        coalesce(p.last_segment, s.stored_path[-1].segment, s.baseline_segment) as path_segment,
        coalesce(p.path, s.stored_path, []) as path,
        coalesce(p.changes, []) as path_changes,
        case when st.late then st.from_time
            else coalesce(s.stored_path[-1].step_at, s.as_of::date::timestamp) + interval 1 microsecond end as retract_from,
        coalesce(st.late, false) as late
    from state s
    left join paths p using (customer_id)
    left join starts st using (customer_id)
)
-- segment_since: against the last history point; new_changes: the path's and the final step's (at as_of);
-- segment_changed: segment_changes move for the customer (new changes, or a late path or a final step's
-- change to replace)
select * exclude (path_segment, path_changes, late, stored_path) replace (
        case when segment is distinct from baseline_segment then as_of else baseline_since end as segment_since),
    case when has_profile then list_concat(path_changes, case when segment is distinct from path_segment
        then [{'changed_at': as_of, 'from_segment': path_segment, 'to_segment': segment}] else [] end) else [] end
        as new_changes,
    has_profile and (len(path_changes) > 0 or segment is distinct from path_segment or late
        or state_segment is distinct from coalesce(stored_path[-1].segment, baseline_segment)) as segment_changed,
    null::varchar as snapshot_reason
from health_derive('pathed', (select params from health_batch_context));
