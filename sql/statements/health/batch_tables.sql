-- The tables a refresh passes its intermediate rows through (this connection's temporary tables). Created
-- once, kept, and emptied at the end of each refresh (inside its transaction, so their rows are never
-- committed): the catalog does not change per batch, so the prepared batch statements stay planned.
-- health_batch_context: one row, the refresh's [health] settings (health_params JSON), their exchange rates
-- (health_fx), its time (health/batch_context), and whether it derives only the customers this pipeline owns
-- (owned_only, store = "ducklake": pipeline_owned_customers with customers_topic). Statements read them from here rather than from
-- parameters: a parameter passed to a table macro, or one the optimizer moves into a filter (a time the
-- windows are cut at), has a prepared statement planned again on every run.
create temp table if not exists health_batch_context (
    params json,
    fx     map(varchar, double),
    as_of  timestamp,
    owned_only boolean,
    customers_topic varchar
);
-- health_batch_facts: the facts of the batch's events (health/batch_facts), shaped like health_event_facts.
create temp table if not exists health_batch_facts (
    customer_id                   varchar,
    occurred_at                   timestamp,
    batch_id                      bigint,
    support_minutes               decimal(18, 4),
    how_to_minutes                decimal(18, 4),
    tickets_opened                integer,
    complaints                    integer,
    how_to_tickets                integer,
    legal_threats                 integer,
    compensation_requests         integer,
    compensation_requested_native decimal(18, 4),
    compensation_granted_native   decimal(18, 4),
    charges                       decimal(18, 4),
    refunds                       decimal(18, 4),
    chargebacks                   decimal(18, 4),
    credits                       decimal(18, 4),
    failed_payments               integer,
    charge_attempts               integer,
    unpriced_payments             integer,
    visits                        integer,
    visit_at                      timestamp,
    payment_at                    timestamp,
    payment_currency              varchar
);
-- The customers the batch touched (health/touched): its facts, escalations, invoices and profile events.
create temp table if not exists health_touched (
    customer_id varchar
);
-- The tickets the batch's escalations upserted, before and after (health/upsert_escalations RETURNING).
create temp table if not exists health_changed_escalations as
select ticket_id, customer_id, escalated_at, previous_escalated_at from ticket_escalations limit 0;
-- The invoices the batch's charges upserted, as they now stand (health/upsert_invoices RETURNING).
create temp table if not exists health_changed_invoices as
select invoice_id, customer_id, first_seen_at, due_at, paid_at from invoice_state limit 0;
-- The refreshed customers being written: health_state rows plus what the write does with them.
-- new_changes: the segment changes the refresh derived ({at, from_segment, to_segment}); retract_from: the
-- customer's stored segment changes from then on are replaced by them (health/retract_segment_changes).
create temp table if not exists health_refreshed as
select *, null::varchar as state_segment, false as segment_changed, null::varchar as snapshot_reason,
    null::struct(changed_at timestamp, from_segment varchar, to_segment varchar)[] as new_changes,
    null::timestamp as retract_from
from health_state limit 0;
-- health_late: the batch's customers with an event at or before the last step of their stored path (their
-- path is derived again from from_time, health/late_customers); health_late_facts: their facts and
-- escalations since the day's point (health/late_facts).
create temp table if not exists health_late (
    customer_id varchar,
    from_time   timestamp
);
create temp table if not exists health_late_facts as
select *, 0 as escalations from health_batch_facts limit 0;
-- health_point_context: one row, the history point being derived ([health] settings and its time), read by
-- the prepared health/history_point_compute (a parameter passed to health_computed would be planned anew
-- at each point).
create temp table if not exists health_point_context (
    params json,
    point_at timestamp
);
