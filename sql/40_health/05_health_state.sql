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
    fading                            boolean not null,
    churned                           boolean not null,
    p_alive                           double,  -- silent churn (sql/35_churn): P(alive) at as_of
    -- score, segment, drift
    components                        struct(engagement double, payment_behaviour double, support_burden double,
                                             complaint_behaviour double, profitability double) not null,
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
