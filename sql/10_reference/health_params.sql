-- The health model's parameters as one STRUCT, from the JSON document that
-- customer_health/health/params.py builds from the [health] settings. Every health statement takes it
-- as $params. Money in the reporting currency, durations in days unless the name says otherwise.
create or replace macro health_params(j) as struct_insert(
    -- one JSON transform for the scalars (a cast per field took longer to plan, at every use)
    json_transform(j, '{
        "cost_per_support_minute": "DOUBLE",
        "cost_per_failed_payment": "DOUBLE",
        "currency": "VARCHAR",
        "engagement_target_visits_90d": "DOUBLE",
        "recency_horizon_days": "DOUBLE",
        "engagement_p_alive_share": "DOUBLE",
        "visit_trend_prior_visits": "DOUBLE",
        "fading_trend_full": "DOUBLE",
        "fading_trend_power": "DOUBLE",
        "support_reference_floor_minutes": "DOUBLE",
        "complaint_reference_floor": "DOUBLE",
        "w_engagement": "DOUBLE",
        "w_payment_behaviour": "DOUBLE",
        "w_support_burden": "DOUBLE",
        "w_complaint_behaviour": "DOUBLE",
        "w_profitability": "DOUBLE",
        "cw_complaint": "DOUBLE",
        "cw_compensation_request": "DOUBLE",
        "cw_legal_threat": "DOUBLE",
        "cw_escalation": "DOUBLE",
        "terrorist_min_complaint_index": "DOUBLE",
        "terrorist_norm_multiple": "DOUBLE",
        "at_risk_below_score": "DOUBLE",
        "fading_gap_multiple": "DOUBLE",
        "fading_min_visits": "INTEGER",
        "fading_min_gap_days": "DOUBLE",
        "at_risk_p_alive_below": "DOUBLE",
        "at_risk_fall_z": "DOUBLE",
        "at_risk_fall_z_band": "DOUBLE",
        "champion_min_score": "DOUBLE",
        "champion_min_engagement": "DOUBLE",
        "terrorist_leave_band": "DOUBLE",
        "unprofitable_leave_band": "DOUBLE",
        "at_risk_score_band": "DOUBLE",
        "at_risk_p_alive_band": "DOUBLE",
        "fading_gap_band": "DOUBLE",
        "champion_score_band": "DOUBLE",
        "champion_engagement_band": "DOUBLE",
        "champion_margin_band": "DOUBLE",
        "educate_min_how_to_share": "DOUBLE",
        "heavy_support_multiple": "DOUBLE",
        "support_floor_minutes": "DOUBLE",
        "migrate_min_payment_problem_share": "DOUBLE",
        "migrate_min_payment_problems": "INTEGER",
        "retry_after_days": "DOUBLE",
        "b2b_exit_notice_months": "INTEGER",
        "drift_lookback_days": "DOUBLE",
        "drift_horizon_days": "DOUBLE",
        "win_back_days": "INTEGER[]",
        "snapshot_retention_days": "DOUBLE"
    }'),
    -- units of each currency per unit of the reporting currency
    fx := health_fx(j)
);

-- The current instant as a UTC TIMESTAMP, whatever the session's time zone.
create or replace macro health_utc_now() as timezone('UTC', current_timestamp);

-- A fractional number of days as an INTERVAL.
create or replace macro health_days(d) as to_microseconds((d * 86400000000)::bigint);

-- The exchange rates alone (units of each currency per reporting unit), for scans that need only them.
create or replace macro health_fx(j) as map((j->'fx_currencies')::varchar[], (j->'fx_rates')::double[]);
