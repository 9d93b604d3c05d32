-- What letting the matched customers go (what_if_portfolio: $segments, $margin_below, $plan, $kind) does to
-- the portfolio, in one row. 90-day figures are the matched customers' trailing 90 days, signed as their
-- effect on the portfolio where a sign is in the name (margin_change: the margin the portfolio gains);
-- annual figures are x 365 / 90. Money in the reporting currency, rounded to cents.
-- Collateral damage, with its assumptions as parameters: $household_follow_share of the household
-- members' margin and $complaint_witness_loss_share of the complaint witnesses' margin are expected to go
-- too; business (b2b) accounts leave $notice_months months (of 365 / 12 days) after notice, bringing and
-- costing meanwhile what they did over the last 90 days, so that much of the margin change is delayed.
with p as (
    select * from what_if_portfolio($segments, $margin_below, $plan, $kind)
),
m as (
    select * from p where matched
),
curves as (
    select curve, count(*) as customers, sum(margin_90d) as margin_90d,
        sum(margin_90d) filter (where rank <= ceil(0.3 * n)) / nullif(sum(margin_90d), 0) as top_30pct_margin_share
    from what_if_ranked($segments, $margin_below, $plan, $kind)
    group by curve
),
collateral as (
    select * from what_if_collateral($segments, $margin_below, $plan, $kind)
),
figures as (
    select
        count(*)                                                          as customers,
        count(*) filter (where first_untried is null)                     as ready,
        count(*) filter (where first_untried is not null)                 as not_ready,
        coalesce(sum(revenue_90d), 0)                                     as revenue_lost_90d,
        coalesce(sum(cost_to_serve_90d), 0)                               as cost_to_serve_saved_90d,
        coalesce(sum(support_minutes_90d), 0)                             as support_minutes_freed_90d,
        0 - coalesce(sum(margin_90d), 0)                                   as margin_change_90d,
        count(*) filter (where kind = 'b2b')                              as b2b_accounts,
        count(*) filter (where kind = 'b2b' and margin_90d < 0)           as b2b_accounts_with_delayed_saving,
        0 - coalesce(sum(margin_90d) filter (where kind = 'b2b'), 0)       as b2b_margin_change_90d
    from m
)
select
    what_if_margin_below($segments, $margin_below)                       as margin_below,
    f.customers, f.ready, f.not_ready,
    round(f.revenue_lost_90d, 2)                                          as revenue_lost_90d,
    round(f.cost_to_serve_saved_90d, 2)                                   as cost_to_serve_saved_90d,
    round(f.support_minutes_freed_90d, 2)                                 as support_minutes_freed_90d,
    round(f.support_minutes_freed_90d / 60, 2)                            as agent_hours_freed_90d,
    round(f.margin_change_90d, 2)                                         as margin_change_90d,
    round(f.revenue_lost_90d * 365 / 90, 2)                               as revenue_lost_annual,
    round(f.cost_to_serve_saved_90d * 365 / 90, 2)                        as cost_to_serve_saved_annual,
    round(f.support_minutes_freed_90d * 365 / 90, 2)                      as support_minutes_freed_annual,
    round(f.support_minutes_freed_90d * 365 / 90 / 60, 2)                 as agent_hours_freed_annual,
    round(f.margin_change_90d * 365 / 90, 2)                              as margin_change_annual,
    (select customers from curves where curve = 'before')                as portfolio_customers_before,
    coalesce((select customers from curves where curve = 'after'), 0)    as portfolio_customers_after,
    round(coalesce((select margin_90d from curves where curve = 'before'), 0), 2) as portfolio_margin_before_90d,
    round(coalesce((select margin_90d from curves where curve = 'after'), 0), 2)  as portfolio_margin_after_90d,
    round((select top_30pct_margin_share from curves where curve = 'before'), 4)  as top_30pct_margin_share_before,
    round((select top_30pct_margin_share from curves where curve = 'after'), 4)   as top_30pct_margin_share_after,
    (select count(distinct household_id) from collateral where reason = 'household') as households_at_risk,
    (select count(*) from collateral where reason = 'household')         as household_members_at_risk,
    round(coalesce((select sum(margin_90d) from collateral where reason = 'household'), 0), 2)
                                                                          as household_members_margin_90d,
    round(0 - $household_follow_share
        * coalesce((select sum(margin_90d) from collateral where reason = 'household'), 0), 2)
                                                                          as household_margin_change_90d,
    (select count(*) from collateral where reason = 'complaint_witness') as complaint_witnesses,
    round(coalesce((select sum(margin_90d) from collateral where reason = 'complaint_witness'), 0), 2)
                                                                          as complaint_witnesses_margin_90d,
    round(0 - $complaint_witness_loss_share
        * coalesce((select sum(margin_90d) from collateral where reason = 'complaint_witness'), 0), 2)
                                                                          as complaint_witness_margin_change_90d,
    f.b2b_accounts, f.b2b_accounts_with_delayed_saving,
    round(f.b2b_margin_change_90d * $notice_months * (365 / 12) / 90, 2)  as b2b_notice_delayed_margin_change,
    round(f.margin_change_90d
        - $household_follow_share * coalesce((select sum(margin_90d) from collateral where reason = 'household'), 0)
        - $complaint_witness_loss_share
            * coalesce((select sum(margin_90d) from collateral where reason = 'complaint_witness'), 0), 2)
                                                                          as margin_change_with_collateral_90d,
    round(f.margin_change_90d * 365 / 90 - f.b2b_margin_change_90d * $notice_months * (365 / 12) / 90, 2)
                                                                          as margin_change_first_year
from figures f;
