-- Portfolio norms used by scores and segment rules, computed by each full refresh over the known,
-- not churned customers. The incremental refresh uses the latest row. Minutes are agent minutes;
-- margins in the reporting currency.
create table if not exists health_norms (
    computed_at                timestamp primary key,
    window_day                 date not null,
    customers                  integer not null,
    median_support_minutes_90d double not null,
    median_complaint_index_90d double not null,
    median_margin_90d          double not null,
    params                     varchar  -- the [health] settings of that refresh ($params JSON)
);
-- Databases created before the settings were kept with the norms.
alter table health_norms add column if not exists params varchar;
-- The wall clock (UTC) when they were computed (computed_at is the model's time): what the norms' age,
-- health.norms_max_age_minutes, is counted from. Null in databases from before.
alter table health_norms add column if not exists recorded_at timestamp;
-- The latest norms, as the struct health_state keeps: what an incremental refresh derives with.
create or replace macro health_latest_norms() as table
select {'computed_at': computed_at, 'customers': customers,
    'median_support_minutes_90d': median_support_minutes_90d,
    'median_complaint_index_90d': median_complaint_index_90d, 'median_margin_90d': median_margin_90d} as n
from health_norms
order by computed_at desc
limit 1;

-- The health of every customer seen (profile or events), as of its last refresh: window sums (state),
-- the metrics, score, components, segment and drift derived from them (health_derive), and the
-- snapshot references drift is measured against. Maintained by the pipeline: the customers a batch
-- touched incrementally, everyone at the first batch of each UTC day. Readers use the customer_health
-- view, which adds the next step. Windows: the N UTC days ending with window_day, up to as_of.
-- Money in the reporting currency (except *_native: the customer's billing currency); minutes are
-- agent minutes; days are fractional days.
create table if not exists health_state (
    customer_id                       varchar not null,  -- one row per customer (no key: refreshes
                                                         -- delete and re-insert, far cheaper than upserts)
    as_of                             timestamp not null,
    window_day                        date not null,
    refreshed_by                      varchar not null,  -- incremental, full
    -- profile (current)
    has_profile                       boolean not null,
    kind                              varchar,
    plan                              varchar,
    household_id                      varchar,
    signed_up_at                      timestamp,
    cancelled_at                      timestamp,
    -- window sums
    support_minutes_30d               decimal(18, 4) not null,
    support_minutes_90d               decimal(18, 4) not null,
    how_to_minutes_90d                decimal(18, 4) not null,
    tickets_90d                       integer not null,  -- tickets opened
    complaints_90d                    integer not null,
    how_to_tickets_90d                integer not null,
    legal_threats_90d                 integer not null,
    escalations_90d                   integer not null,
    compensation_requests_90d         integer not null,
    compensation_requested_native_90d decimal(18, 4) not null,
    compensation_granted_native_90d   decimal(18, 4) not null,
    charges_90d                       decimal(18, 4) not null,
    refunds_90d                       decimal(18, 4) not null,
    chargebacks_90d                   decimal(18, 4) not null,
    credits_90d                       decimal(18, 4) not null,
    failed_payments_90d               integer not null,
    charge_attempts_90d               integer not null,
    unpriced_payments_90d             integer not null,
    visits_90d                        integer not null,
    visits_30d                        integer,           -- null only in rows stored before it was kept
    overdue_invoices_90d              integer not null,  -- due in the window, unpaid at as_of
    -- all time (up to as_of)
    visits_total                      integer not null,
    first_visit_at                    timestamp,
    last_visit_at                     timestamp,
    last_activity_at                  timestamp,
    last_payment_at                   timestamp,
    billing_currency                  varchar,
    -- references in the snapshot history
    baseline_at                       timestamp,  -- latest snapshot before as_of: "what moved" is against it
    baseline_score                    double,
    baseline_segment                  varchar,
    baseline_components               struct(engagement double, payment_behaviour double, support_burden double,
                                             complaint_behaviour double, profitability double),
    score_7d_ago                      double,
    score_30d_ago                     double,
    ref_at                            timestamp,  -- drift is projected from this snapshot to now
    ref_margin_90d                    double,
    ref_complaint_index_90d           double,
    norms                             struct(computed_at timestamp, customers integer,
                                             median_support_minutes_90d double, median_complaint_index_90d double,
                                             median_margin_90d double) not null,
    -- metrics
    window_start                      timestamp not null,  -- start of the 90-day window (midnight UTC)
    revenue_90d                       double not null,
    compensation_granted_90d          double not null,
    compensation_requested_amount_90d double not null,
    support_cost_90d                  double not null,
    failed_payment_cost_90d           double not null,
    cost_to_serve_90d                 double not null,
    margin_90d                        double not null,
    payment_problems_90d              integer not null,
    payment_problem_share_90d         double not null,
    complaint_index_90d               double not null,
    how_to_share_90d                  double not null,
    support_minutes_vs_median         double,
    days_since_last_visit             double,
    usual_visit_gap_days              double,
    usual_visits_30d                  double,  -- the customer's own rate before the 30-day window, per 30 days
    visit_trend                       double,  -- 0-1: recent visits against the customer's own usual (see below)
    fading                            boolean not null,
    churned                           boolean not null,
    p_alive                           double,  -- silent churn (60_marts/00_churn.sql): P(alive) at as_of
    -- score, segment, drift
    components                        struct(engagement double, payment_behaviour double, support_burden double,
                                             complaint_behaviour double, profitability double) not null,
    fading_factor                     double,  -- what the score was multiplied by for the visit trend
    health_score                      double not null,
    segment                           varchar not null,
    segment_reason                    varchar not null,
    segment_since                     timestamp,  -- when the customer entered this segment
    score_change_7d                   double,
    score_change_30d                  double,
    drifting_toward                   varchar,  -- unprofitable, terrorist
    days_to_threshold                 double,
    moved                             struct(engagement double, payment_behaviour double, support_burden double,
                                             complaint_behaviour double, profitability double),
    -- what the playbook needs to pick the next step at read time (customer_health), and win-back dates
    playbook                          struct(educate_fits boolean, migrate_fits boolean, renegotiate_fits boolean,
                                             exit_notice_months integer, retry_after_days double) not null,
    win_back_dates                    timestamp[]
);
-- Databases created before the silent-churn model.
alter table health_state add column if not exists p_alive double;
-- Databases created before the visit trend.
alter table health_state add column if not exists visits_30d integer;
alter table health_state add column if not exists usual_visits_30d double;
alter table health_state add column if not exists visit_trend double;
alter table health_state add column if not exists fading_factor double;
-- When the customer entered the segment of the baseline point (the last history point before as_of).
alter table health_state add column if not exists baseline_since timestamp;
-- The live state's path through its day (health_path_of): the confirmed segment at each distinct event time
-- after the day's history point, oldest first; and what the events before that point left (the day's start)
-- of the figures that are not sums, for re-deriving the path when a late event lands.
alter table health_state add column if not exists path struct(step_at timestamp, segment varchar)[];
alter table health_state add column if not exists day_start struct(first_visit_at timestamp, last_visit_at timestamp,
    last_activity_at timestamp, last_payment_at timestamp, billing_currency varchar);

-- Health history: a grid of point-in-time evaluations, every known customer at 00:00 UTC of each day of
-- the 90-day window before the model's now (customer_health.health.history). Each point is
-- health_computed at that instant, with the norms computed there (health_history_norms) and chained to
-- the points before it, so each row equals what `customer --as-of` gives at its time. Derived: a late
-- event re-derives the points from its day on. snapshot_id follows (point, customer) order. Times are UTC.
create sequence if not exists health_snapshot_ids start 1;
create table if not exists health_snapshots (
    snapshot_id         bigint not null,     -- from sequence health_snapshot_ids (no column default:
                                             -- a default on a sequence breaks Quack 1.5.5); no key:
                                             -- keys cost every checkpoint
    customer_id         varchar not null,
    snapshot_at         timestamp not null,  -- the point (00:00 UTC)
    reason              varchar not null,    -- daily (a grid point)
    health_score        double not null,
    segment             varchar not null,
    previous_segment    varchar,             -- the segment at the point before
    components          struct(engagement double, payment_behaviour double, support_burden double,
                               complaint_behaviour double, profitability double) not null,
    revenue_90d         double not null,
    cost_to_serve_90d   double not null,
    margin_90d          double not null,
    complaint_index_90d double not null,
    support_minutes_90d double not null
);
-- Databases created before the history grid.
alter table health_snapshots add column if not exists segment_reason varchar;

-- The portfolio norms at each history point (over the known, not churned customers of that point).
-- An evaluation at any instant uses the norms of the day's point (its own when the point is not stored).
create table if not exists health_history_norms (
    as_of                      timestamp primary key,  -- the point (00:00 UTC)
    customers                  integer not null,
    median_support_minutes_90d double not null,
    median_complaint_index_90d double not null,
    median_margin_90d          double not null,
    params                     varchar not null  -- the [health] settings it was derived with
);

-- Days from which the stored history must be derived again (late events older than the last point).
create table if not exists health_history_dirty (
    since     date not null,
    marked_at timestamp not null
);

-- The history as a relation: one row per customer and point.
create or replace view health_history as
select customer_id, snapshot_at as as_of, health_score as score, components, segment, segment_reason,
    previous_segment, revenue_90d, cost_to_serve_90d, margin_90d, complaint_index_90d, support_minutes_90d
from health_snapshots;

-- Confirmed segment changes in the stored history: between consecutive points of a customer (changed_at:
-- the point's time); a customer's first point gives their first segment (from_segment null).
create or replace view health_history_changes as
select customer_id, snapshot_at as changed_at, previous_segment as from_segment, segment as to_segment,
    health_score
from (
    select customer_id, snapshot_at, segment, health_score,
        lag(segment) over (partition by customer_id order by snapshot_at) as previous_segment
    from health_snapshots
)
where previous_segment is distinct from segment;

-- Steps of the playbook tried with a customer: who recorded it and when it was tried (UTC).
create sequence if not exists intervention_ids start 1;
create table if not exists interventions (
    intervention_id bigint primary key,  -- from sequence intervention_ids
    customer_id     varchar not null,
    step            varchar not null,    -- readjust, educate, renegotiate, migrate, exit
    note            varchar not null,
    recorded_by     varchar not null,
    tried_at        timestamp not null,
    recorded_at     timestamp not null
);

-- One row per refresh of health_state: incremental (the customers a batch touched) or full.
create sequence if not exists health_refresh_ids start 1;
create table if not exists health_refreshes (
    refresh_id      bigint primary key,  -- from sequence health_refresh_ids
    kind            varchar not null,    -- incremental, full
    reason          varchar not null,    -- batch, day_rollover, norms_age, norms_growth, first, manual
    as_of           timestamp not null,
    batch_id        bigint,
    customers       integer not null,    -- rows refreshed
    segment_changes integer not null,
    duration_ms     double
);

-- Every segment change found by a refresh. from_segment is null for a customer's first segment. batch_id: the
-- landed batch whose refresh found it (null for a refresh outside the pipeline). Times are UTC. change_seq
-- grows in write order (rows older than the column have none, and are no news any more): the alerts read the table by it (not by rowid: a refresh retracts the changes it no
-- longer derives, and DuckDB reuses the rowids of deleted rows once it checkpoints).
create sequence if not exists segment_change_seq;
create table if not exists segment_changes (
    customer_id       varchar not null,
    changed_at        timestamp not null,
    from_segment      varchar,
    to_segment        varchar not null,
    health_score      double not null,
    drifting_toward   varchar,
    days_to_threshold double,
    batch_id          bigint,
    refresh_kind      varchar not null  -- incremental, full
);
-- No column default: DuckDB 1.5.5 cannot replay a WAL whose catalog holds a nextval() default (after a kill -9,
-- "GetDefaultDatabase with no default database set"); the writer draws it (health/write_segment_changes).
alter table segment_changes add column if not exists change_seq bigint;

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
-- silent-churn model's P(alive) at as_of (60_marts/00_churn.sql; null without a purchase or a fitted model; else 0
-- once cancelled: the model knows purchases only, the cancellation is a fact).
-- The customer's own baseline (null without fading_min_visits visits before the 30-day window):
--   usual_visits_30d  their visits before the 30-day window per 30 days, over the days from their first visit
--                     to the window's start (at least 30);
--   visit_trend       0-1, how much of their usual engagement is left: min(1, (visits_30d + prior) /
--                     (usual_visits_30d + prior)), prior = visit_trend_prior_visits (damps the noise of rare
--                     visitors), times exp(-max(0, days since the last visit - usual gap) / (fading_gap_multiple
--                     x usual gap)) (usual gap at least fading_min_gap_days).
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
        case when s.visits_total - coalesce(s.visits_30d, 0) >= params.hp.fading_min_visits
            then 30 * (s.visits_total - coalesce(s.visits_30d, 0)) / greatest(
                epoch((s.window_day - 29)::timestamp - s.first_visit_at) / 86400, 30.0)
        end as usual_visits_raw,
        coalesce(s.visits_total >= params.hp.fading_min_visits
            and epoch(s.as_of - s.last_visit_at) / 86400 >= params.hp.fading_gap_multiple * greatest(
                epoch(s.last_visit_at - s.first_visit_at) / 86400 / (s.visits_total - 1),
                params.hp.fading_min_gap_days), false) as fading,
        coalesce(s.cancelled_at <= s.as_of, false) as churned,
        case when s.cancelled_at <= s.as_of then churn.p_alive * 0 else churn.p_alive end as p_alive
    from query_table(state_src) s
    cross join params
    left join churn_p_alive_of(state_src) churn using (customer_id, as_of)
)
select parts.* exclude (usual_visits_raw),
    round(usual_visits_raw, 2) as usual_visits_30d,
    -- least/greatest skip nulls: without a baseline the trend must stay null, not become 1
    case when usual_visits_raw is not null then round(least(1.0, (coalesce(visits_30d, 0)
            + params.hp.visit_trend_prior_visits) / (usual_visits_raw + params.hp.visit_trend_prior_visits))
        * exp(-greatest(0.0, epoch(as_of - last_visit_at) / 86400 - greatest(
                epoch(last_visit_at - first_visit_at) / 86400 / (visits_total - 1), params.hp.fading_min_gap_days))
            / (params.hp.fading_gap_multiple * greatest(
                epoch(last_visit_at - first_visit_at) / 86400 / (visits_total - 1), params.hp.fading_min_gap_days))),
        4) end as visit_trend,
    round(support_cost_90d + compensation_granted_90d + failed_payment_cost_90d, 2) as cost_to_serve_90d,
    round(revenue_90d - (support_cost_90d + compensation_granted_90d + failed_payment_cost_90d), 2)
        as margin_90d,
    failed_payments_90d + overdue_invoices_90d as payment_problems_90d,
    coalesce(round((failed_payments_90d + overdue_invoices_90d)
        / nullif(charge_attempts_90d + overdue_invoices_90d, 0), 4), 0.0) as payment_problem_share_90d
from parts, params;

-- The visit fall z a customer already at risk stays at risk with (the held at_risk rules of
-- health_confirmed_segment): the enter threshold at_risk_fall_z less its band, at least 0.
create or replace macro health_held_fall_z(hp) as greatest(0.0, hp.at_risk_fall_z - hp.at_risk_fall_z_band);

-- The segment rule (a code: the segment, or the segment and which of its rules) that matches a customer at
-- an evaluation time, from the customer's previous confirmed segment (previous_segment; null: none yet) and
-- the rule inputs r at that time (built in health_rule_inputs: churned, cancelled_at, complaint_index_90d,
-- terrorist_threshold, median_complaint_index_90d, complaints_90d, compensation_requests_90d,
-- legal_threats_90d, escalations_90d, margin_90d, revenue_90d, cost_to_serve_90d, median_margin_90d,
-- health_score, engagement, components_mean (the score before the fading factor), fading, visits_total,
-- days_since_last_visit, usual_visit_gap_days, p_alive, visits_30d, usual_visits_30d, visit_fall_z); hp:
-- health_params. A score below at_risk_below_score only because of the fading factor, and silent fading, put
-- a customer at risk only when the fall in visits is improbable under the customer's usual rate
-- (visit_fall_z >= at_risk_fall_z): a rare visitor's quiet month is noise. Rules in order, first match wins
-- (see health_scored); each enters at its threshold and, for a customer already in that segment, holds
-- until a looser one (the *_band settings; the codes ending in held), so figures wavering around a
-- threshold do not flip the segment, while a move past the enter threshold of another rule is confirmed at
-- once. Cancelled is a fact: churned has no band. Money in the reporting currency; bands on margins are
-- shares of the customer's revenue_90d. The code is the segment, then after a colon which of its rules
-- if it has more than one (health_rule_segment); the reason: health_rule_reason.
create or replace macro health_segment_rule(previous_segment, r, hp) as case
    when r.churned then 'churned'
    when r.complaint_index_90d >= r.terrorist_threshold then 'terrorist'
    when previous_segment = 'terrorist'
        and r.complaint_index_90d >= (1 - hp.terrorist_leave_band) * r.terrorist_threshold then 'terrorist:held'
    when r.margin_90d < 0 then 'unprofitable'
    when previous_segment = 'unprofitable'
        and r.margin_90d <= hp.unprofitable_leave_band * greatest(r.revenue_90d, 0) then 'unprofitable:held'
    when r.health_score < hp.at_risk_below_score and r.components_mean < hp.at_risk_below_score
        then 'at_risk:score'
    when r.health_score < hp.at_risk_below_score and coalesce(r.visit_fall_z >= hp.at_risk_fall_z, true)
        then 'at_risk:fall'
    when r.fading and coalesce(r.visit_fall_z >= hp.at_risk_fall_z, true) then 'at_risk:fading'
    when r.p_alive < hp.at_risk_p_alive_below then 'at_risk:p_alive'
    when previous_segment = 'at_risk' and r.health_score < hp.at_risk_below_score + hp.at_risk_score_band
        and (r.components_mean < hp.at_risk_below_score + hp.at_risk_score_band
            or coalesce(r.visit_fall_z >= health_held_fall_z(hp), true))
        then 'at_risk:score_held'
    when previous_segment = 'at_risk' and r.visits_total >= hp.fading_min_visits
        and r.days_since_last_visit >= (hp.fading_gap_multiple - hp.fading_gap_band)
            * greatest(r.usual_visit_gap_days, hp.fading_min_gap_days)
        and coalesce(r.visit_fall_z >= health_held_fall_z(hp), true) then 'at_risk:fading_held'
    when previous_segment = 'at_risk' and r.p_alive < hp.at_risk_p_alive_below + hp.at_risk_p_alive_band
        then 'at_risk:p_alive_held'
    when r.health_score >= hp.champion_min_score and r.engagement >= hp.champion_min_engagement
        and r.margin_90d > r.median_margin_90d then 'champion'
    when previous_segment = 'champion' and r.health_score >= hp.champion_min_score - hp.champion_score_band
        and r.engagement >= hp.champion_min_engagement - hp.champion_engagement_band
        and r.margin_90d > r.median_margin_90d - hp.champion_margin_band * greatest(r.revenue_90d, 0)
        then 'champion:held'
    else 'healthy'
end;

-- The segment of a rule code of health_segment_rule.
create or replace macro health_rule_segment(rule) as split_part(rule, ':', 1);

-- The reason text of a rule code of health_segment_rule, from the same rule inputs r and hp.
create or replace macro health_rule_reason(rule, r, hp) as case rule
    when 'churned' then format('cancelled on {}', strftime(r.cancelled_at, '%Y-%m-%d'))
    when 'terrorist' then format('complaint-driven behaviour far above the portfolio norm: complaint index {} '
            || '(threshold {}, portfolio median {}) from {} complaints, {} compensation demands, '
            || '{} legal threats and {} escalations in 90 days',
            r.complaint_index_90d, round(r.terrorist_threshold, 2), round(r.median_complaint_index_90d, 2),
            r.complaints_90d, r.compensation_requests_90d, r.legal_threats_90d, r.escalations_90d)
    when 'terrorist:held' then format('still terrorist: complaint index {} not below {} ({}% under the threshold '
            || '{}, portfolio median {}) from {} complaints, {} compensation demands, {} legal threats and {} '
            || 'escalations in 90 days',
            r.complaint_index_90d, round((1 - hp.terrorist_leave_band) * r.terrorist_threshold, 2),
            round(100 * hp.terrorist_leave_band)::integer, round(r.terrorist_threshold, 2),
            round(r.median_complaint_index_90d, 2), r.complaints_90d, r.compensation_requests_90d,
            r.legal_threats_90d, r.escalations_90d)
    when 'unprofitable' then format('margin_90d {} < 0: revenue {} against cost to serve {}',
            r.margin_90d, r.revenue_90d, r.cost_to_serve_90d)
    when 'unprofitable:held' then format('still unprofitable: margin_90d {} not above {} ({}% of revenue {}) '
            || 'against cost to serve {}',
            r.margin_90d, round(hp.unprofitable_leave_band * greatest(r.revenue_90d, 0), 2),
            round(100 * hp.unprofitable_leave_band)::integer, r.revenue_90d, r.cost_to_serve_90d)
    when 'at_risk:score' then format('health score {} below {}', r.health_score, hp.at_risk_below_score)
    when 'at_risk:fall' then format('health score {} below {}: {} visits in 30 days against a usual {} (fall z {}, '
            || 'at least {})',
            r.health_score, hp.at_risk_below_score, r.visits_30d, r.usual_visits_30d, r.visit_fall_z,
            hp.at_risk_fall_z)
    when 'at_risk:fading' then format('silent fading: no visit for {} days, over {} x the usual gap of {} days',
            r.days_since_last_visit, hp.fading_gap_multiple, r.usual_visit_gap_days)
    when 'at_risk:p_alive' then format('silent churn: P(alive) {} below {} (BG/NBD on the repeat purchases)',
            round(r.p_alive, 3), hp.at_risk_p_alive_below)
    when 'at_risk:score_held' then format('still at risk: health score {} below {} (entered below {})',
            r.health_score, hp.at_risk_below_score + hp.at_risk_score_band, hp.at_risk_below_score)
    when 'at_risk:fading_held' then format('still at risk: silent fading, no visit for {} days, over {} x the '
            || 'usual gap of {} days',
            r.days_since_last_visit, hp.fading_gap_multiple - hp.fading_gap_band, r.usual_visit_gap_days)
    when 'at_risk:p_alive_held' then format('still at risk: silent churn, P(alive) {} below {} (entered below {})',
            round(r.p_alive, 3), hp.at_risk_p_alive_below + hp.at_risk_p_alive_band, hp.at_risk_p_alive_below)
    when 'champion' then format('health score {} >= {}, engagement {} and margin_90d {} above the portfolio '
            || 'median {}',
            r.health_score, hp.champion_min_score, r.engagement, r.margin_90d, round(r.median_margin_90d, 2))
    when 'champion:held' then format('still champion: health score {} >= {}, engagement {} >= {} and margin_90d {} '
            || 'above {} (portfolio median {} less {}% of revenue {})',
            r.health_score, hp.champion_min_score - hp.champion_score_band, r.engagement,
            hp.champion_min_engagement - hp.champion_engagement_band, r.margin_90d,
            round(r.median_margin_90d - hp.champion_margin_band * greatest(r.revenue_90d, 0), 2),
            round(r.median_margin_90d, 2), round(100 * hp.champion_margin_band)::integer, r.revenue_90d)
    -- healthy below the at_risk score: only the fading factor took the score there, and the fall in visits is
    -- within the customer's usual variation (the at_risk rule's visit_fall_z gate)
    else case when r.health_score < hp.at_risk_below_score
        then format('health score {} below {} only from fewer visits ({} in 30 days against a usual {}), a fall '
                || 'within this customer''s usual variation (fall z {} below {}): not at risk yet, watch the visits',
            r.health_score, hp.at_risk_below_score, r.visits_30d, r.usual_visits_30d, r.visit_fall_z,
            hp.at_risk_fall_z)
        else format('health score {}, margin_90d {}', r.health_score, r.margin_90d) end
end;

-- The confirmed segment {segment, reason} of a customer at an evaluation time: health_segment_rule's rule
-- (same arguments) as its segment and reason. Where a query needs the segment only, health_rule_segment of
-- health_segment_rule skips the reason's formatting.
create or replace macro health_confirmed_segment(previous_segment, r, hp) as {
    'segment': health_rule_segment(health_segment_rule(previous_segment, r, hp)),
    'reason': health_rule_reason(health_segment_rule(previous_segment, r, hp), r, hp)};

-- From metric rows (metrics_src: health_metrics_of's output with a norms column) to complete health
-- rows: health_rule_inputs gives the components, the score and the segment rules' inputs (segment_inputs,
-- which do not depend on the previous segment), health_scored the rest. Components, each 0-100 (higher is healthier):
--   engagement          half visits_90d against the target, half recency (last visit against the horizon),
--                       times the visit trend (the customer against their own baseline, health_metrics_of);
--                       with a P(alive) (silent churn), engagement_p_alive_share of it is P(alive) instead;
--   payment_behaviour   100 x (1 - payment_problem_share_90d);
--   support_burden      100 / (1 + support minutes / max(portfolio median, floor)): halves at the reference;
--   complaint_behaviour 100 / (1 + complaint index / max(portfolio median, floor));
--   profitability       50 + 50 x margin / max(revenue, cost to serve, 1), clamped to [0, 100].
-- health_score: their weighted mean, times fading_factor = min(1, visit_trend / fading_trend_full) ^
-- fading_trend_power: a customer fading from their own baseline is not healthy, however profitable (1
-- without a baseline).
-- Segment rules, first match wins:
--   churned      cancelled at or before as_of;
--   terrorist    complaint_index_90d >= max(terrorist_min_complaint_index, terrorist_norm_multiple x
--                max(portfolio median, complaint_reference_floor)), whatever the revenue;
--   unprofitable margin_90d < 0;
--   at_risk      health score below at_risk_below_score, or silent fading (no visit for
--                fading_gap_multiple x the customer's usual gap between visits), or silent churn
--                (BG/NBD P(alive) below at_risk_p_alive_below); a low score due to the fading factor
--                and silent fading count only with a significant fall in visits (visit_fall_z);
--   champion     health score >= champion_min_score, engagement >= champion_min_engagement and margin_90d
--                above the portfolio median;
--   healthy      everyone else.
-- These are the thresholds to enter; a customer leaves its previous confirmed segment (metrics_src's
-- previous_segment, null: none yet) only past a looser one (health_confirmed_segment).
-- Drift: score change against the snapshots 7 and 30 days back; drifting toward unprofitable (margin_90d
-- falling to 0) or terrorist (complaint index rising to the threshold) when the linear trend from the
-- reference snapshot (ref_at) crosses within drift_horizon_days (the nearer one wins).
create or replace macro health_rule_inputs(metrics_src, pj) as table
with params as materialized (
    select health_params(pj) as hp
),
components as (
    select m.*,
        round(m.support_minutes_90d::double / nullif(m.norms.median_support_minutes_90d, 0), 2)
            as support_minutes_vs_median,
        greatest(params.hp.terrorist_min_complaint_index, params.hp.terrorist_norm_multiple
            * greatest(m.norms.median_complaint_index_90d, params.hp.complaint_reference_floor)) as terrorist_threshold,
        {
            'engagement': round(100 * (
                (1 - if(m.p_alive is null, 0.0, params.hp.engagement_p_alive_share)) * (
                0.5 * least(1.0, m.visits_90d / params.hp.engagement_target_visits_90d)
                + 0.5 * coalesce(greatest(0.0, 1 - m.days_since_last_visit / params.hp.recency_horizon_days),
                    0.0)) * coalesce(m.visit_trend, 1.0)
                + coalesce(params.hp.engagement_p_alive_share * m.p_alive, 0.0)), 1),
            'payment_behaviour': round(100 * (1 - m.payment_problem_share_90d), 1),
            'support_burden': round(100 / (1 + m.support_minutes_90d::double
                / greatest(m.norms.median_support_minutes_90d, params.hp.support_reference_floor_minutes)), 1),
            'complaint_behaviour': round(100 / (1 + m.complaint_index_90d
                / greatest(m.norms.median_complaint_index_90d, params.hp.complaint_reference_floor)), 1),
            'profitability': round(50 + 50 * greatest(-1.0, least(1.0,
                m.margin_90d / greatest(m.revenue_90d, m.cost_to_serve_90d, 1.0))), 1)
        } as components,
        round(power(least(1.0, coalesce(m.visit_trend, 1.0) / params.hp.fading_trend_full),
            params.hp.fading_trend_power), 4) as fading_factor
    from query_table(metrics_src) m, params
),
weighted as (
    select c.*,
        (params.hp.w_engagement * c.components.engagement
            + params.hp.w_payment_behaviour * c.components.payment_behaviour
            + params.hp.w_support_burden * c.components.support_burden
            + params.hp.w_complaint_behaviour * c.components.complaint_behaviour
            + params.hp.w_profitability * c.components.profitability)
            / (params.hp.w_engagement + params.hp.w_payment_behaviour + params.hp.w_support_burden
               + params.hp.w_complaint_behaviour + params.hp.w_profitability) as components_mean
    from components c, params
),
scored as (
    select w.*, round(w.components_mean * w.fading_factor, 1) as health_score
    from weighted w
),
rule_inputs as (
    select s.*,
        {
            'churned': s.churned, 'cancelled_at': s.cancelled_at,
            'complaint_index_90d': s.complaint_index_90d, 'terrorist_threshold': s.terrorist_threshold,
            'median_complaint_index_90d': s.norms.median_complaint_index_90d, 'complaints_90d': s.complaints_90d,
            'compensation_requests_90d': s.compensation_requests_90d, 'legal_threats_90d': s.legal_threats_90d,
            'escalations_90d': s.escalations_90d,
            'margin_90d': s.margin_90d, 'revenue_90d': s.revenue_90d, 'cost_to_serve_90d': s.cost_to_serve_90d,
            'median_margin_90d': s.norms.median_margin_90d,
            'health_score': s.health_score, 'engagement': s.components.engagement,
            'components_mean': s.components_mean,
            'fading': s.fading, 'visits_total': s.visits_total, 'days_since_last_visit': s.days_since_last_visit,
            'usual_visit_gap_days': s.usual_visit_gap_days, 'p_alive': s.p_alive,
            'visits_30d': s.visits_30d, 'usual_visits_30d': s.usual_visits_30d,
            -- how improbable the fall of visits_30d below the usual rate is for a Poisson count: the signed
            -- root of the deviance, 0 without a fall, null without a baseline
            'visit_fall_z': case when s.usual_visits_30d is not null then
                case when s.visits_30d < s.usual_visits_30d then round(sqrt(greatest(0.0, 2 * (
                    s.visits_30d * ln(greatest(s.visits_30d, 1) / s.usual_visits_30d)
                    - (s.visits_30d - s.usual_visits_30d)))), 2) else 0.0 end end
        } as segment_inputs
    from scored s
)
select * from rule_inputs;

-- Rule inputs (health_rule_inputs) to complete health rows: segment, drift, playbook.
create or replace macro health_scored(metrics_src, pj) as table
with params as materialized (
    select health_params(pj) as hp
),
rule_inputs as (
    select * from health_rule_inputs(metrics_src, pj)
),
ruled as (
    select s.*, health_segment_rule(s.previous_segment, s.segment_inputs, params.hp) as segment_rule
    from rule_inputs s, params
),
segmented as (
    -- health_confirmed_segment, its rule evaluated once
    select s.* exclude (segment_rule), {'segment': health_rule_segment(s.segment_rule),
        'reason': health_rule_reason(s.segment_rule, s.segment_inputs, params.hp)} as seg
    from ruled s, params
),
trends as (
    select s.*,
        epoch(s.as_of - s.ref_at) / 86400 as ref_days,
        case when s.seg.segment not in ('unprofitable', 'terrorist', 'churned') and s.as_of > s.ref_at
                and s.margin_90d >= 0 and s.margin_90d < s.ref_margin_90d
            then round(s.margin_90d / ((s.ref_margin_90d - s.margin_90d) / (epoch(s.as_of - s.ref_at) / 86400)), 1)
        end as days_to_unprofitable,
        case when s.seg.segment not in ('terrorist', 'churned') and s.as_of > s.ref_at
                and s.complaint_index_90d > s.ref_complaint_index_90d
            then round((s.terrorist_threshold - s.complaint_index_90d)
                / ((s.complaint_index_90d - s.ref_complaint_index_90d) / (epoch(s.as_of - s.ref_at) / 86400)), 1)
        end as days_to_terrorist
    from segmented s
),
fits as (
    select t.*,
        t.how_to_share_90d >= params.hp.educate_min_how_to_share
            and t.support_minutes_90d::double >= greatest(
                params.hp.heavy_support_multiple * t.norms.median_support_minutes_90d,
                params.hp.support_floor_minutes) as educate_fits,
        t.payment_problems_90d >= params.hp.migrate_min_payment_problems
            and t.payment_problem_share_90d >= params.hp.migrate_min_payment_problem_share as migrate_fits,
        t.margin_90d < 0 and t.seg.segment <> 'terrorist' as renegotiate_fits
    from trends t, params
)
select f.* exclude (previous_segment, segment_inputs, seg, terrorist_threshold, components_mean, ref_days,
        days_to_unprofitable,
        days_to_terrorist, educate_fits, migrate_fits, renegotiate_fits),
    f.seg.segment as segment,
    f.seg.reason as segment_reason,
    round(f.health_score - f.score_7d_ago, 1) as score_change_7d,
    round(f.health_score - f.score_30d_ago, 1) as score_change_30d,
    case
        when coalesce(f.days_to_unprofitable, 'infinity'::double) <= params.hp.drift_horizon_days
            and coalesce(f.days_to_unprofitable, 'infinity'::double)
                <= coalesce(f.days_to_terrorist, 'infinity'::double) then 'unprofitable'
        when coalesce(f.days_to_terrorist, 'infinity'::double) <= params.hp.drift_horizon_days then 'terrorist'
    end as drifting_toward,
    case when least(coalesce(f.days_to_unprofitable, 'infinity'::double),
                    coalesce(f.days_to_terrorist, 'infinity'::double)) <= params.hp.drift_horizon_days
        then least(coalesce(f.days_to_unprofitable, 'infinity'::double),
                   coalesce(f.days_to_terrorist, 'infinity'::double))
    end as days_to_threshold,
    case when f.baseline_components is not null then {
        'engagement': round(f.components.engagement - f.baseline_components.engagement, 1),
        'payment_behaviour': round(f.components.payment_behaviour - f.baseline_components.payment_behaviour, 1),
        'support_burden': round(f.components.support_burden - f.baseline_components.support_burden, 1),
        'complaint_behaviour':
            round(f.components.complaint_behaviour - f.baseline_components.complaint_behaviour, 1),
        'profitability': round(f.components.profitability - f.baseline_components.profitability, 1)
    } end as moved,
    -- what the playbook needs at read time (health_playbook_text, health_next_step): which steps fit, and
    -- the two settings the words need
    {
        'educate_fits': f.educate_fits,
        'migrate_fits': f.migrate_fits,
        'renegotiate_fits': f.renegotiate_fits,
        'exit_notice_months': params.hp.b2b_exit_notice_months,
        'retry_after_days': params.hp.retry_after_days
    } as playbook,
    case when f.cancelled_at is not null
        then list_transform(params.hp.win_back_days, n -> f.cancelled_at + to_days(n)) end as win_back_dates
from fits f, params;

-- State rows (with norms) to complete health rows.
create or replace macro health_derive(state_src, pj) as table
with metrics as (
    select * from health_metrics_of(state_src, pj)
)
select * from health_scored('metrics', pj);

-- The five-step playbook. Steps are considered in this order:
--   educate      how-to tickets dominate a heavy support load;
--   migrate      failed payments and overdue invoices dominate the payment attempts (prepaid, self-service);
--   renegotiate  cost to serve above revenue (margin_90d < 0) with ordinary (not terrorist) behaviour;
--   exit         terrorist, but only once educate, migrate and renegotiate have all been tried: until then
--                the first of them never tried is recommended instead;
--   readjust     otherwise, for at_risk and unprofitable customers: diagnose.
-- A fitting step tried within retry_after_days is not recommended again; the next fitting step is.
-- Whether each step fits was fixed with the row (playbook, from health_scored); the words come from the
-- row's figures at read time (health_playbook_text); tried is the list of {step, tried_at} recorded up
-- to as_of (health_interventions_tried).

-- Whether step was tried at or after since.
create or replace macro health_step_tried(tried, step, since) as
    len(list_filter(coalesce(tried, []), t -> t.step = step and t.tried_at >= since)) > 0;

-- The earliest of educate, migrate, renegotiate never tried (null when all were).
create or replace macro health_first_untried(tried) as
    list_filter(['educate', 'migrate', 'renegotiate'], s -> not health_step_tried(tried, s, '-infinity'::timestamp))[1];

-- The stored playbook of a row with the reason of each step in words, from the row's figures.
create or replace macro health_playbook_text(playbook, kind, how_to_share_90d, support_minutes_90d,
        median_support_minutes_90d, failed_payments_90d, overdue_invoices_90d, payment_problem_share_90d,
        cost_to_serve_90d, revenue_90d, margin_90d) as {
    'educate_fits': playbook.educate_fits,
    'educate_reason': format('how-to tickets take {}% of {} support minutes in 90 days (portfolio median {}): '
        || 'educate (guides, onboarding, self-help)', round(100 * how_to_share_90d, 0)::integer,
        round(support_minutes_90d::double, 1), round(median_support_minutes_90d, 1)),
    'migrate_fits': playbook.migrate_fits,
    'migrate_reason': format('{} failed payments and {} overdue invoices in 90 days, {}% of payment attempts: '
        || 'migrate to prepaid or self-service billing', failed_payments_90d, overdue_invoices_90d,
        round(100 * payment_problem_share_90d, 0)::integer),
    'renegotiate_fits': playbook.renegotiate_fits,
    'renegotiate_reason': format('cost to serve {} above revenue {} (margin_90d {}) with ordinary behaviour: '
        || 'renegotiate price or service level', cost_to_serve_90d, revenue_90d, margin_90d),
    'exit_notice': case when kind = 'b2b'
        then format('business account: give notice {} months ahead, in person', playbook.exit_notice_months)
        else 'consumer: tell them in person or by phone' end,
    'retry_after_days': playbook.retry_after_days
};

create or replace macro health_next_step(customer_id, segment, segment_reason, playbook, tried, as_of,
        drifting_toward, days_to_threshold, exited_at, returned_after_exit) as case
    when segment = 'churned' then {'next_step': 'none',
        'next_step_reason': 'cancelled: no step; see the win-back dates', 'exit_notice': null::varchar}
    -- exited (and not back since): the playbook is over; said when the exit skipped steps it tries first
    when exited_at is not null and not coalesce(returned_after_exit, false) then {'next_step': 'none',
        'next_step_reason': format('exit recorded on {}{}: no further step (the notice period runs; a return is '
                || 'flagged)', strftime(exited_at, '%Y-%m-%d'),
            case when health_first_untried(tried) is not null
                then format(', before {} {} tried (the playbook tries educate, migrate and renegotiate first)',
                    array_to_string(list_filter(['educate', 'migrate', 'renegotiate'],
                        s -> not health_step_tried(tried, s, '-infinity'::timestamp)), ' and '),
                    case when len(list_filter(['educate', 'migrate', 'renegotiate'],
                        s -> not health_step_tried(tried, s, '-infinity'::timestamp))) = 1 then 'was' else 'were' end)
                else '' end),
        'exit_notice': null::varchar}
    when segment = 'terrorist' and health_first_untried(tried) is not null then {
        'next_step': health_first_untried(tried),
        'next_step_reason': format('{} was never tried, and the playbook tries it before exit ({}); terrorist: {}',
            health_first_untried(tried),
            case health_first_untried(tried)
                when 'educate' then case when playbook.educate_fits then playbook.educate_reason
                    else 'set expectations: what the service includes and how to get help' end
                when 'migrate' then case when playbook.migrate_fits then playbook.migrate_reason
                    else 'move them to prepaid billing or self-service channels' end
                else 'renegotiate the terms of service'
            end,
            segment_reason),
        'exit_notice': null::varchar}
    when segment = 'terrorist' then {'next_step': 'exit',
        'next_step_reason': format('terrorist after educate, migrate and renegotiate were all tried: exit with '
            || 'the evidence file ready (customer-health dossier {}); {}; notice: {}', customer_id,
            segment_reason, playbook.exit_notice),
        'exit_notice': playbook.exit_notice}
    when playbook.educate_fits
        and not health_step_tried(tried, 'educate', as_of - health_days(playbook.retry_after_days)) then {
        'next_step': 'educate', 'next_step_reason': playbook.educate_reason, 'exit_notice': null::varchar}
    when playbook.migrate_fits
        and not health_step_tried(tried, 'migrate', as_of - health_days(playbook.retry_after_days)) then {
        'next_step': 'migrate', 'next_step_reason': playbook.migrate_reason, 'exit_notice': null::varchar}
    when playbook.renegotiate_fits
        and not health_step_tried(tried, 'renegotiate', as_of - health_days(playbook.retry_after_days)) then {
        'next_step': 'renegotiate', 'next_step_reason': playbook.renegotiate_reason, 'exit_notice': null::varchar}
    when segment in ('at_risk', 'unprofitable') then {'next_step': 'readjust',
        'next_step_reason': format('{}: {}; {}diagnose what changed and readjust', segment, segment_reason,
            case when playbook.educate_fits or playbook.migrate_fits or playbook.renegotiate_fits
                then format('the fitting steps were tried in the last {} days; ', playbook.retry_after_days)
                else '' end),
        'exit_notice': null::varchar}
    -- healthy or champion, but its trend reaches the unprofitable or terrorist threshold within the drift horizon:
    -- the playbook's first step, before it gets there (once per retry_after_days)
    when drifting_toward is not null
        and not health_step_tried(tried, 'readjust', as_of - health_days(playbook.retry_after_days)) then {
        'next_step': 'readjust',
        'next_step_reason': format('{} but drifting toward {}: ~{} days to the threshold at its '
                || 'recent trend; diagnose what changed and readjust before it gets there ({})',
            segment, drifting_toward, round(days_to_threshold)::integer, segment_reason),
        'exit_notice': null::varchar}
    else {'next_step': 'none', 'next_step_reason': format('{}: no step needed ({})', segment, segment_reason),
        'exit_notice': null::varchar}
end;

-- Per customer, the history points a state at as_of is compared with (from health_snapshots):
--   baseline: the latest point before as_of ("what moved", the segment it came from) and since when the
--        customer was in its segment (the first point of the run of that segment ending there);
--   score_7d_ago / score_30d_ago: the latest point at least 7 / 30 days before as_of;
--   ref: the latest point at least lookback_days before as_of, else the earliest one at least a day
--        old: drift is projected from it.
create or replace macro health_refs(as_of, lookback_days) as table
with points as (
    select *, lag(segment) over (partition by customer_id order by snapshot_at) as before_segment
    from health_snapshots
    where snapshot_at < as_of
)
select customer_id,
    max(snapshot_at) as baseline_at,
    arg_max(health_score, snapshot_at) as baseline_score,
    arg_max(segment, snapshot_at) as baseline_segment,
    arg_max(components, snapshot_at) as baseline_components,
    max(snapshot_at) filter (where before_segment is distinct from segment) as baseline_since,
    arg_max(health_score, snapshot_at) filter (where snapshot_at <= as_of - interval 7 days) as score_7d_ago,
    arg_max(health_score, snapshot_at) filter (where snapshot_at <= as_of - interval 30 days) as score_30d_ago,
    coalesce(
        max(snapshot_at) filter (where snapshot_at <= as_of - health_days(lookback_days)),
        min(snapshot_at) filter (where snapshot_at <= as_of - interval 1 day)) as ref_at,
    coalesce(
        arg_max(margin_90d, snapshot_at) filter (where snapshot_at <= as_of - health_days(lookback_days)),
        arg_min(margin_90d, snapshot_at) filter (where snapshot_at <= as_of - interval 1 day)) as ref_margin_90d,
    coalesce(
        arg_max(complaint_index_90d, snapshot_at) filter (where snapshot_at <= as_of - health_days(lookback_days)),
        arg_min(complaint_index_90d, snapshot_at) filter (where snapshot_at <= as_of - interval 1 day))
        as ref_complaint_index_90d
from points
group by customer_id;

-- The confirmed segment's path through a day (the live state's hysteresis in event time): the rows of
-- starts_src (customer_id; from_time: the first step to derive; prefix: the path's steps kept, before it;
-- start_segment: the segment the new steps start from; base: first_visit_at, last_visit_at,
-- last_activity_at, last_payment_at and billing_currency of the events before facts_src's) fold
-- health_segment_rule over the customer's distinct event times at or after from_time, each step
-- evaluated as of that time: the final state rows (final_src, at their as_of, norms included) less the facts
-- after it (facts_src: health_event_facts rows plus an escalations count, every fact of the customer in
-- (from its day's 00:00 or earlier steps, as_of]; all within the day, so in every window). Per customer: path
-- (prefix and the new steps, {at, segment}), changes (the new steps' {at, from_segment, to_segment}) and
-- last_segment (start_segment without a new step).
-- A segment as one letter (n: none) and back: the path's fold (health_path_of) carries its segments as text.
create or replace macro health_segment_letter(segment) as case segment
    when 'terrorist' then 't' when 'unprofitable' then 'u' when 'at_risk' then 'a' when 'champion' then 'c'
    when 'healthy' then 'h' when 'churned' then 'x' else 'n' end;
create or replace macro health_segment_of_letter(letter) as case letter
    when 't' then 'terrorist' when 'u' then 'unprofitable' when 'a' then 'at_risk' when 'c' then 'champion'
    when 'h' then 'healthy' when 'x' then 'churned' end;

create or replace macro health_path_of(final_src, facts_src, starts_src, pj) as table
with params as materialized (
    select health_params(pj) as hp
),
starts as (
    select * from query_table(starts_src)
),
at_time as (
    select f.customer_id, f.occurred_at as step_at,
        coalesce(sum(f.support_minutes), 0) as support_minutes, coalesce(sum(f.how_to_minutes), 0) as how_to_minutes,
        coalesce(sum(f.tickets_opened), 0) as tickets_opened, coalesce(sum(f.complaints), 0) as complaints,
        coalesce(sum(f.how_to_tickets), 0) as how_to_tickets, coalesce(sum(f.legal_threats), 0) as legal_threats,
        coalesce(sum(f.escalations), 0) as escalations,
        coalesce(sum(f.compensation_requests), 0) as compensation_requests,
        coalesce(sum(f.compensation_requested_native), 0) as compensation_requested_native,
        coalesce(sum(f.compensation_granted_native), 0) as compensation_granted_native,
        coalesce(sum(f.charges), 0) as charges, coalesce(sum(f.refunds), 0) as refunds,
        coalesce(sum(f.chargebacks), 0) as chargebacks, coalesce(sum(f.credits), 0) as credits,
        coalesce(sum(f.failed_payments), 0) as failed_payments, coalesce(sum(f.charge_attempts), 0) as charge_attempts,
        coalesce(sum(f.unpriced_payments), 0) as unpriced_payments, coalesce(sum(f.visits), 0) as visits,
        min(f.visit_at) as first_visit_at, max(f.visit_at) as last_visit_at,
        max(f.occurred_at) filter (where coalesce(f.escalations, 0) = 0) as last_activity_at,
        max(f.payment_at) as last_payment_at, arg_max(f.payment_currency, f.payment_at) as billing_currency
    from query_table(facts_src) f
    where f.customer_id in (select customer_id from starts)
    group by f.customer_id, f.occurred_at
),
times as (
    select *, count(*) over (partition by customer_id) as times from at_time
),
-- a customer with facts at one time only: nothing after it, everything up to it (no window needed)
running as (
    select customer_id, step_at, 0 as support_minutes, 0 as how_to_minutes, 0 as tickets_opened, 0 as complaints,
        0 as how_to_tickets, 0 as legal_threats, 0 as escalations, 0 as compensation_requests,
        0 as compensation_requested_native, 0 as compensation_granted_native, 0 as charges, 0 as refunds,
        0 as chargebacks, 0 as credits, 0 as failed_payments, 0 as charge_attempts, 0 as unpriced_payments,
        0 as visits, first_visit_at, last_visit_at, last_activity_at, last_payment_at, billing_currency,
        escalations > 0 and last_activity_at is null as escalation_only
    from times
    where times = 1
    union all

    select a.customer_id, a.step_at,
        coalesce(sum(a.support_minutes) over after, 0) as support_minutes,
        coalesce(sum(a.how_to_minutes) over after, 0) as how_to_minutes,
        coalesce(sum(a.tickets_opened) over after, 0) as tickets_opened,
        coalesce(sum(a.complaints) over after, 0) as complaints,
        coalesce(sum(a.how_to_tickets) over after, 0) as how_to_tickets,
        coalesce(sum(a.legal_threats) over after, 0) as legal_threats,
        coalesce(sum(a.escalations) over after, 0) as escalations,
        coalesce(sum(a.compensation_requests) over after, 0) as compensation_requests,
        coalesce(sum(a.compensation_requested_native) over after, 0) as compensation_requested_native,
        coalesce(sum(a.compensation_granted_native) over after, 0) as compensation_granted_native,
        coalesce(sum(a.charges) over after, 0) as charges,
        coalesce(sum(a.refunds) over after, 0) as refunds,
        coalesce(sum(a.chargebacks) over after, 0) as chargebacks,
        coalesce(sum(a.credits) over after, 0) as credits,
        coalesce(sum(a.failed_payments) over after, 0) as failed_payments,
        coalesce(sum(a.charge_attempts) over after, 0) as charge_attempts,
        coalesce(sum(a.unpriced_payments) over after, 0) as unpriced_payments,
        coalesce(sum(a.visits) over after, 0) as visits,
        min(a.first_visit_at) over upto as first_visit_at,
        max(a.last_visit_at) over upto as last_visit_at,
        max(a.last_activity_at) over upto as last_activity_at,
        max(a.last_payment_at) over upto as last_payment_at,
        arg_max(a.billing_currency, a.last_payment_at) over upto as billing_currency,
        a.escalations > 0 and a.last_activity_at is null as escalation_only
    from times a
    where a.times > 1
    window after as (partition by a.customer_id order by a.step_at rows between 1 following and unbounded following),
        upto as (partition by a.customer_id order by a.step_at rows between unbounded preceding and current row)
),
step_times as (
    select r.*, s.base, s.start_segment as path_start_segment,
        count(*) over (partition by r.customer_id) as path_steps
    from running r
    join starts s using (customer_id)
    where r.step_at >= s.from_time and not r.escalation_only
),
overdue as (
    select t.customer_id, t.step_at,
        count(*) filter (where health_is_overdue(o.first_seen_at, o.due_at, o.paid_at,
            (t.step_at::date - 89)::timestamp, t.step_at))::integer as overdue_invoices_90d
    from step_times t
    join open_invoices o using (customer_id)
    group by t.customer_id, t.step_at
),
steps as (
    select f.* replace (
        r.step_at as as_of,
        (f.support_minutes_30d - r.support_minutes)::decimal(18, 4) as support_minutes_30d,
        (f.support_minutes_90d - r.support_minutes)::decimal(18, 4) as support_minutes_90d,
        (f.how_to_minutes_90d - r.how_to_minutes)::decimal(18, 4) as how_to_minutes_90d,
        (f.tickets_90d - r.tickets_opened)::integer as tickets_90d,
        (f.complaints_90d - r.complaints)::integer as complaints_90d,
        (f.how_to_tickets_90d - r.how_to_tickets)::integer as how_to_tickets_90d,
        (f.legal_threats_90d - r.legal_threats)::integer as legal_threats_90d,
        (f.escalations_90d - r.escalations)::integer as escalations_90d,
        (f.compensation_requests_90d - r.compensation_requests)::integer as compensation_requests_90d,
        (f.compensation_requested_native_90d - r.compensation_requested_native)::decimal(18, 4)
            as compensation_requested_native_90d,
        (f.compensation_granted_native_90d - r.compensation_granted_native)::decimal(18, 4)
            as compensation_granted_native_90d,
        (f.charges_90d - r.charges)::decimal(18, 4) as charges_90d,
        (f.refunds_90d - r.refunds)::decimal(18, 4) as refunds_90d,
        (f.chargebacks_90d - r.chargebacks)::decimal(18, 4) as chargebacks_90d,
        (f.credits_90d - r.credits)::decimal(18, 4) as credits_90d,
        (f.failed_payments_90d - r.failed_payments)::integer as failed_payments_90d,
        (f.charge_attempts_90d - r.charge_attempts)::integer as charge_attempts_90d,
        (f.unpriced_payments_90d - r.unpriced_payments)::integer as unpriced_payments_90d,
        (f.visits_90d - r.visits)::integer as visits_90d,
        (f.visits_30d - r.visits)::integer as visits_30d,
        (f.visits_total - r.visits)::integer as visits_total,
        least(r.base.first_visit_at, r.first_visit_at) as first_visit_at,
        greatest(r.base.last_visit_at, r.last_visit_at) as last_visit_at,
        greatest(r.base.last_activity_at, r.last_activity_at) as last_activity_at,
        greatest(r.base.last_payment_at, r.last_payment_at) as last_payment_at,
        case when r.last_payment_at >= coalesce(r.base.last_payment_at, '-infinity'::timestamp)
            then r.billing_currency else r.base.billing_currency end as billing_currency,
        coalesce(o.overdue_invoices_90d, 0) as overdue_invoices_90d
    ), r.path_start_segment, r.path_steps
    from step_times r
    join query_table(final_src) f using (customer_id)
    left join overdue o using (customer_id, step_at)
),
step_metrics as (
    select * from health_metrics_of('steps', pj)
),
transitions as materialized (
    -- the step's confirmed segment from each previous one (the rules only tell these apart); a lone step
    -- from its start segment only
    select i.customer_id, i.as_of as step_at, case when i.path_steps = 1 then {
        'other': health_rule_segment(health_segment_rule(i.path_start_segment, i.segment_inputs, params.hp)),
        'terrorist': null::varchar, 'unprofitable': null::varchar, 'at_risk': null::varchar,
        'champion': null::varchar
    } else {
        'other': health_rule_segment(health_segment_rule(null::varchar, i.segment_inputs, params.hp)),
        'terrorist': health_rule_segment(health_segment_rule('terrorist', i.segment_inputs, params.hp)),
        'unprofitable': health_rule_segment(health_segment_rule('unprofitable', i.segment_inputs, params.hp)),
        'at_risk': health_rule_segment(health_segment_rule('at_risk', i.segment_inputs, params.hp)),
        'champion': health_rule_segment(health_segment_rule('champion', i.segment_inputs, params.hp))
    } end as tr, i.path_steps
    from health_rule_inputs('step_metrics', pj) i, params
),
-- the fold: list_reduce over the steps in time order, the segments so far as one letter each (the first:
-- start_segment's), so the accumulator stays as small as a step
-- a lone step needs no fold
single as (
    select s.customer_id,
        list_append(coalesce(s.prefix, []::struct(step_at timestamp, segment varchar)[]),
            {'step_at': t.step_at, 'segment': t.tr.other}) as path,
        case when t.tr.other is distinct from s.start_segment
            then [{'changed_at': t.step_at, 'from_segment': s.start_segment, 'to_segment': t.tr.other}]
            else []::struct(changed_at timestamp, from_segment varchar, to_segment varchar)[] end as changes,
        t.tr.other as last_segment
    from starts s
    join transitions t using (customer_id)
    where t.path_steps = 1
),
gathered as (
    select s.customer_id, any_value(s.prefix) as prefix, any_value(s.start_segment) as start_segment,
        coalesce(list({'step_at': t.step_at, 'tr': t.tr, 'segs': ''} order by t.step_at)
            filter (where t.step_at is not null), []) as elems
    from starts s
    left join transitions t using (customer_id)
    where s.customer_id not in (select customer_id from single)
    group by s.customer_id
),
folded as (
    select g.customer_id, g.prefix, g.elems, list_reduce(
        list_prepend({'step_at': null::timestamp, 'tr': null, 'segs': health_segment_letter(g.start_segment)}, g.elems),
        (acc, x) -> {'step_at': x.step_at, 'tr': x.tr, 'segs': acc.segs || health_segment_letter(
            case when len(g.elems) = 1 then x.tr.other else case right(acc.segs, 1)
                when 't' then x.tr.terrorist when 'u' then x.tr.unprofitable when 'a' then x.tr.at_risk
                when 'c' then x.tr.champion else x.tr.other end end)}).segs as segs
    from gathered g
)
select customer_id,
    list_concat(coalesce(prefix, []), list_transform(range(len(elems)),
        i -> {'step_at': elems[i + 1].step_at, 'segment': health_segment_of_letter(segs[i + 2])})) as path,
    list_filter(list_transform(range(len(elems)),
            i -> {'changed_at': elems[i + 1].step_at, 'from_segment': health_segment_of_letter(segs[i + 1]),
                  'to_segment': health_segment_of_letter(segs[i + 2])}),
        c -> c.from_segment is distinct from c.to_segment) as changes,
    health_segment_of_letter(right(segs, 1)) as last_segment
from folded
union all by name
select * from single;

-- Every customer's health at as_of, computed from scratch: the full refresh and the point-in-time
-- reads (customer-health customer --as-of). Windows: the 90 (30) UTC days ending with as_of's day,
-- cut at as_of: whole past days come from the customer_day rollup, as_of's own day from the landed
-- events up to as_of. The profile is the latest customer event at or before as_of. Portfolio norms
-- are computed over the known, not churned customers of this same evaluation. pj: the $params JSON.
-- current: the current state (the full refresh), whose segment follows the confirmed segment's path through
-- its day (health_path_of) from the day's point: the stored path while it is chained from the same point (live),
-- else derived again from the day's events; path, day_start, new_changes (the path's changes derived here and
-- the final step's, at as_of) and retract_from (the customer's segment_changes from then on are replaced) say
-- what the refresh writes. Otherwise (points, --as-of reads) the rules step once from the last point.
-- subset: these customers alone (a list of ids; null: everyone), with the norms in use (the latest recorded in
-- health_norms, those an incremental refresh derives with) instead of their own portfolio's.
create or replace macro health_computed(pj, as_of, live := false, current := false, subset := null) as table
with bounds as (
    select as_of::timestamp as as_of, as_of::timestamp::date as today
),
profiles as (
    select customer_id, kind, plan, household_id, signed_up_at, cancelled_at
    from customer_events
    where occurred_at <= as_of::timestamp and (subset is null or customer_id in (select unnest(subset)))
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
        coalesce(sum(visits) filter (where day >= today - 29), 0)::integer as visits_30d,
        coalesce(sum(visits), 0)::integer as visits_total,
        min(first_visit_at) as first_visit_at,
        max(last_visit_at) as last_visit_at,
        max(last_activity_at) as last_activity_at,
        max(last_payment_at) as last_payment_at,
        arg_max(last_payment_currency, last_payment_at) as billing_currency,
        {'first_visit_at': min(first_visit_at) filter (where day < today),
         'last_visit_at': max(last_visit_at) filter (where day < today),
         'last_activity_at': max(last_activity_at) filter (where day < today),
         'last_payment_at': max(last_payment_at) filter (where day < today),
         'billing_currency': arg_max(last_payment_currency, last_payment_at) filter (where day < today)} as day_start
    from days, bounds
    where subset is null or customer_id in (select unnest(subset))
    group by customer_id
),
invoices as (
    select customer_id,
        count(*) filter (where health_is_overdue(first_seen_at, due_at, paid_at, (bounds.today - 89)::timestamp,
            bounds.as_of))::integer as overdue_invoices_90d
    from invoice_state, bounds
    where due_at >= (bounds.today - 89)::timestamp and (paid_at is null or paid_at > due_at)
        and (subset is null or customer_id in (select unnest(subset)))
    group by customer_id
),
ids as (
    select customer_id from profiles
    union select customer_id from sums
    union select customer_id from invoices
),
state as materialized (
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
        coalesce(sums.visits_30d, 0) as visits_30d,
        coalesce(sums.visits_total, 0) as visits_total,
        sums.first_visit_at, sums.last_visit_at, sums.last_activity_at, sums.last_payment_at,
        sums.billing_currency,
        coalesce(invoices.overdue_invoices_90d, 0) as overdue_invoices_90d,
        refs.baseline_at, refs.baseline_score, refs.baseline_segment, refs.baseline_components,
        refs.score_7d_ago, refs.score_30d_ago, refs.ref_at, refs.ref_margin_90d, refs.ref_complaint_index_90d,
        refs.baseline_since, refs.baseline_since as segment_since, sums.day_start,
        -- the stored path, kept while it is chained from the same point on the same day
        case when stored.baseline_at is not distinct from refs.baseline_at and stored.window_day = bounds.today
            then coalesce(stored.path, []) end as kept_path,
        null::struct(computed_at timestamp, customers integer, median_support_minutes_90d double,
                     median_complaint_index_90d double, median_margin_90d double) as norms
    from ids
    cross join bounds
    left join profiles using (customer_id)
    left join sums using (customer_id)
    left join invoices using (customer_id)
    left join health_refs(as_of::timestamp, (select health_params(pj).drift_lookback_days)) refs using (customer_id)
    left join (select customer_id, baseline_at, window_day, path from health_state where live and current) stored
        using (customer_id)
),
-- the confirmed segment the alerts' feed last gave each customer before today's point (current only): a path
-- derived again from the point starts with the point's change from it (first segments included)
before_point as (
    select customer_id, arg_max(to_segment, changed_at) as segment
    from segment_changes, bounds
    where current and changed_at < bounds.today::timestamp
    group by customer_id
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
-- the norms of the point at 00:00 UTC of as_of's day, when stored with these settings (else computed here)
point_norms as (
    select {'computed_at': n.as_of, 'customers': n.customers,
        'median_support_minutes_90d': n.median_support_minutes_90d,
        'median_complaint_index_90d': n.median_complaint_index_90d, 'median_margin_90d': n.median_margin_90d} as n
    from health_history_norms n
    where n.as_of = as_of::timestamp::date::timestamp and n.params = pj::varchar
),
-- the norms in use, when computing only some customers
in_use_norms as (
    select n from health_latest_norms()
),
norms_used as (
    select case when subset is null then coalesce((select n from point_norms), (select n from portfolio))
        else (select n from in_use_norms) end as n
),
state_n as (
    select s.* replace ((select n from norms_used) as norms) from state s
),
-- the current state's path through the day, derived again from the day's events (no stored path to keep)
path_starts as (
    select customer_id, today::timestamp + interval 1 microsecond as from_time,
        []::struct(step_at timestamp, segment varchar)[] as prefix, baseline_segment as start_segment, day_start as base
    from state, bounds
    where current and kept_path is null
),
day_facts as (
    select f.*, 0 as escalations
    from health_event_facts((select health_fx(pj)), null, as_of::timestamp::date::timestamp, as_of::timestamp) f
    where f.occurred_at > as_of::timestamp::date::timestamp and f.customer_id in (select customer_id from path_starts)
    union all by name
    select customer_id, escalated_at as occurred_at, 1 as escalations
    from ticket_escalations
    where escalated_at > as_of::timestamp::date::timestamp and escalated_at <= as_of::timestamp
        and customer_id in (select customer_id from path_starts)
),
paths as (
    select * from health_path_of('state_n', 'day_facts', 'path_starts', pj)
),
metrics_n as (
    select m.* replace ((select n from norms_used) as norms),
        -- the confirmed segment the hysteresis of the segment rules starts from: the last point's, or for the
        -- current state the end of the day's path
        case when m.kept_path is not null then coalesce(m.kept_path[-1].segment, m.baseline_segment)
            when p.customer_id is not null then p.last_segment else m.baseline_segment end as previous_segment,
        case when m.kept_path is not null then coalesce(m.kept_path[-1].segment, m.baseline_segment)
            when p.customer_id is not null then p.last_segment else m.baseline_segment end as path_segment,
        coalesce(m.kept_path, p.path, []) as path,
        coalesce(p.changes, []) as path_changes,
        -- today's point's change, when the path is derived again from that point
        case when current and m.kept_path is null and m.baseline_at = m.as_of::date::timestamp
                and m.baseline_segment is distinct from b.segment
            then [{'changed_at': m.baseline_at, 'from_segment': b.segment, 'to_segment': m.baseline_segment}]
            else [] end as point_changes,
        case when current and m.kept_path is null and m.baseline_at = m.as_of::date::timestamp then m.baseline_at
            else coalesce(m.kept_path[-1].step_at, m.as_of::date::timestamp) + interval 1 microsecond
            end as retract_from
    from metrics m
    left join paths p using (customer_id)
    left join before_point b using (customer_id)
)
-- segment_since: as_of when the segment differs from the last point's, else when the customer entered it
select * exclude (kept_path, path_segment, path_changes, point_changes) replace (
        case when segment is distinct from baseline_segment then as_of else baseline_since end as segment_since),
    case when has_profile then list_concat(point_changes, path_changes, case when segment is distinct from path_segment
        then [{'changed_at': as_of, 'from_segment': path_segment, 'to_segment': segment}] else [] end) else [] end
        as new_changes
from health_scored('metrics_n', pj);

-- Read-time inputs of the next step: the playbook steps tried per customer up to as_of, and when the
-- customer was last exited.
create or replace macro health_interventions_tried(as_of) as table
select customer_id,
    list({'step': step, 'tried_at': tried_at} order by tried_at, intervention_id) as tried,
    max(tried_at) filter (where step = 'exit') as exited_at
from interventions
where tried_at <= as_of
group by customer_id;

-- Household and return flags of the rows of src (a health_state-shaped relation) at as_of:
--   household_churned: other customers of the same household who churned (win-back: flag these);
--   returned_after_exit / returned_after_exit_of: an exited customer shows up again, either the same
--   id (signed up again after the exit, or active after a cancellation that followed the exit) or a new
--   id in the household of an exited customer, signed up after that exit.
create or replace macro health_household_flags(src, as_of) as table
with h as (
    select customer_id, household_id, signed_up_at, cancelled_at, churned, last_activity_at
    from query_table(src)
),
exits as (
    select customer_id, max(tried_at) as exited_at
    from interventions
    where step = 'exit' and tried_at <= as_of
    group by customer_id
),
churned_households as (
    select household_id, list(customer_id order by customer_id) as members
    from h
    where churned and household_id is not null
    group by household_id
),
exited_households as (
    select h.household_id, list({'customer_id': e.customer_id, 'exited_at': e.exited_at}
        order by e.exited_at, e.customer_id) as members
    from exits e
    join h using (customer_id)
    where h.household_id is not null
    group by h.household_id
),
flags as (
    select h.customer_id,
        coalesce(list_filter(ch.members, x -> x <> h.customer_id), []) as household_churned,
        e.exited_at is not null and (h.signed_up_at > e.exited_at
            or (h.cancelled_at >= e.exited_at and h.last_activity_at > h.cancelled_at)) as same_id_returned,
        list_filter(eh.members, x -> x.customer_id <> h.customer_id and h.signed_up_at > x.exited_at)
            as household_exits_before_signup
    from h
    left join exits e using (customer_id)
    left join churned_households ch using (household_id)
    left join exited_households eh using (household_id)
)
select customer_id, household_churned,
    coalesce(same_id_returned, false) or coalesce(len(household_exits_before_signup), 0) > 0
        as returned_after_exit,
    case when same_id_returned then customer_id else household_exits_before_signup[1].customer_id end
        as returned_after_exit_of
from flags;

-- Health rows of src (a health_state-shaped relation, maintained or computed at as_of) for the known
-- customers (with a profile), plus what is decided at read time: the next step (from the interventions
-- recorded up to as_of), household and return-after-exit flags, and the customer's name.
create or replace macro health_presented(src, as_of) as table
-- as_of bound once, as a column: it may be a scalar subquery (health_model_now), which DuckDB does not
-- accept inside the lambdas of health_next_step
with clock as (
    select as_of::timestamp as presented_at
),
tried as (
    select * from health_interventions_tried((select presented_at from clock))
),
flags as (
    select * from health_household_flags(src, (select presented_at from clock))
),
-- The playbook words once per row, as a column (passed into health_next_step, the expression would be
-- repeated at each of its uses: far longer to plan).
worded as (
    select h.*,
        health_playbook_text(h.playbook, h.kind, h.how_to_share_90d, h.support_minutes_90d,
            h.norms.median_support_minutes_90d, h.failed_payments_90d, h.overdue_invoices_90d,
            h.payment_problem_share_90d, h.cost_to_serve_90d, h.revenue_90d, h.margin_90d) as playbook_words
    from query_table(src) h
    where h.has_profile
)
select h.* exclude (playbook, playbook_words), c.name,
    h.as_of as refreshed_at,
    h.norms.median_support_minutes_90d as portfolio_median_support_minutes_90d,
    unnest(health_next_step(h.customer_id, h.segment, h.segment_reason, h.playbook_words, tried.tried,
        clock.presented_at, h.drifting_toward, h.days_to_threshold, tried.exited_at, flags.returned_after_exit)),
    coalesce(tried.tried, []) as interventions_tried,
    tried.exited_at,
    flags.household_churned,
    len(flags.household_churned) > 0 as household_churn_flag,
    flags.returned_after_exit,
    flags.returned_after_exit_of,
    h.playbook
from worded h
cross join clock
join customers c using (customer_id)
left join tried using (customer_id)
left join flags using (customer_id);

-- Current health of every known customer as maintained by the pipeline in health_state (see
-- health_presented) at the model's now (health_model_now: the wall clock, or in [clock] source = "events"
-- the latest event time landed); what the dashboard, the alerts and `customer-health customer` read.
create or replace view customer_health as
select * from health_presented('health_state', health_model_now(health_utc_now()));
