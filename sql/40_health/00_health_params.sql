-- The health model's parameters as one STRUCT, from the JSON document that
-- customer_health/health/params.py builds from the [health] settings. Every health statement takes it
-- as $params. Money in the reporting currency, durations in days unless the name says otherwise.
create or replace macro health_params(j) as {
    'cost_per_support_minute': (j->>'cost_per_support_minute')::double,
    'cost_per_failed_payment': (j->>'cost_per_failed_payment')::double,
    'currency': j->>'currency',
    -- units of each currency per unit of the reporting currency
    'fx': health_fx(j),
    'engagement_target_visits_90d': (j->>'engagement_target_visits_90d')::double,
    'recency_horizon_days': (j->>'recency_horizon_days')::double,
    'engagement_p_alive_share': (j->>'engagement_p_alive_share')::double,
    'support_reference_floor_minutes': (j->>'support_reference_floor_minutes')::double,
    'complaint_reference_floor': (j->>'complaint_reference_floor')::double,
    'w_engagement': (j->>'w_engagement')::double,
    'w_payment_behaviour': (j->>'w_payment_behaviour')::double,
    'w_support_burden': (j->>'w_support_burden')::double,
    'w_complaint_behaviour': (j->>'w_complaint_behaviour')::double,
    'w_profitability': (j->>'w_profitability')::double,
    'cw_complaint': (j->>'cw_complaint')::double,
    'cw_compensation_request': (j->>'cw_compensation_request')::double,
    'cw_legal_threat': (j->>'cw_legal_threat')::double,
    'cw_escalation': (j->>'cw_escalation')::double,
    'terrorist_min_complaint_index': (j->>'terrorist_min_complaint_index')::double,
    'terrorist_norm_multiple': (j->>'terrorist_norm_multiple')::double,
    'at_risk_below_score': (j->>'at_risk_below_score')::double,
    'fading_gap_multiple': (j->>'fading_gap_multiple')::double,
    'fading_min_visits': (j->>'fading_min_visits')::integer,
    'fading_min_gap_days': (j->>'fading_min_gap_days')::double,
    'at_risk_p_alive_below': (j->>'at_risk_p_alive_below')::double,
    'champion_min_score': (j->>'champion_min_score')::double,
    'champion_min_engagement': (j->>'champion_min_engagement')::double,
    'educate_min_how_to_share': (j->>'educate_min_how_to_share')::double,
    'heavy_support_multiple': (j->>'heavy_support_multiple')::double,
    'support_floor_minutes': (j->>'support_floor_minutes')::double,
    'migrate_min_payment_problem_share': (j->>'migrate_min_payment_problem_share')::double,
    'migrate_min_payment_problems': (j->>'migrate_min_payment_problems')::integer,
    'retry_after_days': (j->>'retry_after_days')::double,
    'b2b_exit_notice_months': (j->>'b2b_exit_notice_months')::integer,
    'drift_lookback_days': (j->>'drift_lookback_days')::double,
    'drift_horizon_days': (j->>'drift_horizon_days')::double,
    'win_back_days': (j->'win_back_days')::integer[],
    'snapshot_retention_days': (j->>'snapshot_retention_days')::double
};

-- The current instant as a UTC TIMESTAMP, whatever the session's time zone.
create or replace macro health_utc_now() as timezone('UTC', current_timestamp);

-- A fractional number of days as an INTERVAL.
create or replace macro health_days(d) as to_microseconds((d * 86400000000)::bigint);

-- The exchange rates alone (units of each currency per reporting unit), for scans that need only them.
create or replace macro health_fx(j) as map((j->'fx_currencies')::varchar[], (j->'fx_rates')::double[]);
