-- From metric rows (metrics_src: health_metrics_of's output with a norms column) to complete health
-- rows. Components, each 0-100 (higher is healthier):
--   engagement          half visits_90d against the target, half recency (last visit against the horizon);
--                       with a P(alive) (silent churn), engagement_p_alive_share of it is P(alive) instead;
--   payment_behaviour   100 x (1 - payment_problem_share_90d);
--   support_burden      100 / (1 + support minutes / max(portfolio median, floor)): halves at the reference;
--   complaint_behaviour 100 / (1 + complaint index / max(portfolio median, floor));
--   profitability       50 + 50 x margin / max(revenue, cost to serve, 1), clamped to [0, 100].
-- health_score: their weighted mean. Segment rules, first match wins:
--   churned      cancelled at or before as_of;
--   terrorist    complaint_index_90d >= max(terrorist_min_complaint_index, terrorist_norm_multiple x
--                max(portfolio median, complaint_reference_floor)), whatever the revenue;
--   unprofitable margin_90d < 0;
--   at_risk      health score below at_risk_below_score, or silent fading (no visit for
--                fading_gap_multiple x the customer's usual gap between visits), or silent churn
--                (BG/NBD P(alive) below at_risk_p_alive_below);
--   champion     health score >= champion_min_score, engagement >= champion_min_engagement and margin_90d
--                above the portfolio median;
--   healthy      everyone else.
-- Drift: score change against the snapshots 7 and 30 days back; drifting toward unprofitable (margin_90d
-- falling to 0) or terrorist (complaint index rising to the threshold) when the linear trend from the
-- reference snapshot (ref_at) crosses within drift_horizon_days (the nearer one wins).
create or replace macro health_scored(metrics_src, pj) as table
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
                    0.0))
                + coalesce(params.hp.engagement_p_alive_share * m.p_alive, 0.0)), 1),
            'payment_behaviour': round(100 * (1 - m.payment_problem_share_90d), 1),
            'support_burden': round(100 / (1 + m.support_minutes_90d::double
                / greatest(m.norms.median_support_minutes_90d, params.hp.support_reference_floor_minutes)), 1),
            'complaint_behaviour': round(100 / (1 + m.complaint_index_90d
                / greatest(m.norms.median_complaint_index_90d, params.hp.complaint_reference_floor)), 1),
            'profitability': round(50 + 50 * greatest(-1.0, least(1.0,
                m.margin_90d / greatest(m.revenue_90d, m.cost_to_serve_90d, 1.0))), 1)
        } as components
    from query_table(metrics_src) m, params
),
scored as (
    select c.*,
        round((params.hp.w_engagement * c.components.engagement
            + params.hp.w_payment_behaviour * c.components.payment_behaviour
            + params.hp.w_support_burden * c.components.support_burden
            + params.hp.w_complaint_behaviour * c.components.complaint_behaviour
            + params.hp.w_profitability * c.components.profitability)
            / (params.hp.w_engagement + params.hp.w_payment_behaviour + params.hp.w_support_burden
               + params.hp.w_complaint_behaviour + params.hp.w_profitability), 1) as health_score
    from components c, params
),
segmented as (
    select s.*,
        case
            when s.churned then {'segment': 'churned',
                'reason': format('cancelled on {}', strftime(s.cancelled_at, '%Y-%m-%d'))}
            when s.complaint_index_90d >= s.terrorist_threshold then {'segment': 'terrorist',
                'reason': format('complaint-driven behaviour far above the portfolio norm: complaint index {} '
                    || '(threshold {}, portfolio median {}) from {} complaints, {} compensation demands, '
                    || '{} legal threats and {} escalations in 90 days',
                    s.complaint_index_90d, round(s.terrorist_threshold, 2),
                    round(s.norms.median_complaint_index_90d, 2), s.complaints_90d, s.compensation_requests_90d,
                    s.legal_threats_90d, s.escalations_90d)}
            when s.margin_90d < 0 then {'segment': 'unprofitable',
                'reason': format('margin_90d {} < 0: revenue {} against cost to serve {}',
                    s.margin_90d, s.revenue_90d, s.cost_to_serve_90d)}
            when s.health_score < params.hp.at_risk_below_score then {'segment': 'at_risk',
                'reason': format('health score {} below {}', s.health_score, params.hp.at_risk_below_score)}
            when s.fading then {'segment': 'at_risk',
                'reason': format('silent fading: no visit for {} days, over {} x the usual gap of {} days',
                    s.days_since_last_visit, params.hp.fading_gap_multiple, s.usual_visit_gap_days)}
            when s.p_alive < params.hp.at_risk_p_alive_below then {'segment': 'at_risk',
                'reason': format('silent churn: P(alive) {} below {} (BG/NBD on the repeat purchases)',
                    round(s.p_alive, 3), params.hp.at_risk_p_alive_below)}
            when s.health_score >= params.hp.champion_min_score
                and s.components.engagement >= params.hp.champion_min_engagement
                and s.margin_90d > s.norms.median_margin_90d
                then {'segment': 'champion',
                'reason': format('health score {} >= {}, engagement {} and margin_90d {} above the portfolio '
                    || 'median {}', s.health_score, params.hp.champion_min_score, s.components.engagement,
                    s.margin_90d, round(s.norms.median_margin_90d, 2))}
            else {'segment': 'healthy',
                'reason': format('health score {}, margin_90d {}', s.health_score, s.margin_90d)}
        end as seg
    from scored s, params
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
select f.* exclude (seg, terrorist_threshold, ref_days, days_to_unprofitable, days_to_terrorist, educate_fits,
        migrate_fits, renegotiate_fits),
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
