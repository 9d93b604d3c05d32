-- What if some customers were let go: the portfolio with and without them. Money in the reporting
-- currency, over the trailing 90 days of each customer's maintained window (customer_health).

-- The margin filter in effect: margin_below when given; with neither it nor a segment filter, the
-- unprofitable tail (margin_90d below 0).
create or replace macro what_if_margin_below(segment_filter, margin_below) as
    coalesce(margin_below, case when segment_filter is null then 0 end);

-- The active (not churned) customers of customer_health, each flagged matched when it meets every filter
-- given (null = no filter): segment_filter (a list of segments), margin below what_if_margin_below
-- (strictly), plan_filter, kind_filter. Churned customers have left already and never match.
create or replace macro what_if_portfolio(segment_filter, margin_below, plan_filter, kind_filter) as table
select customer_id, name, kind, plan, household_id, segment, revenue_90d, cost_to_serve_90d, margin_90d,
    support_minutes_90d, window_start, as_of, interventions_tried, next_step,
    coalesce((segment_filter is null or list_contains(segment_filter, segment))
        and (what_if_margin_below(segment_filter, margin_below) is null
             or margin_90d < what_if_margin_below(segment_filter, margin_below))
        and (plan_filter is null or plan = plan_filter)
        and (kind_filter is null or kind = kind_filter), false) as matched,
    -- The first of the steps the playbook tries before an exit that was never tried (null: ready to exit).
    health_first_untried(interventions_tried) as first_untried
from customer_health
where segment <> 'churned';

-- The whale curve before (every active customer, ranked as portfolio_ranked ranks them) and after (the
-- customers who stay, ranked again): the running and total margin per curve.
create or replace macro what_if_ranked(segment_filter, margin_below, plan_filter, kind_filter) as table
with p as (
    select * from what_if_portfolio(segment_filter, margin_below, plan_filter, kind_filter)
),
curves as (
    select 'before' as curve, customer_id, margin_90d from p
    union all
    select 'after' as curve, customer_id, margin_90d from p where not matched
)
select curve, customer_id, margin_90d,
    row_number() over by_margin                                  as rank,
    count(*) over (partition by curve)                           as n,
    sum(margin_90d) over (partition by curve)                    as total,
    sum(margin_90d) over (by_margin rows unbounded preceding)    as cumulative,
    lead(margin_90d) over by_margin                              as next_margin
from curves
window by_margin as (partition by curve order by margin_90d desc, customer_id);

-- Open complaints at as_of: complaint tickets of the active customers opened in their 90-day window
-- (window_start to as_of) whose latest opened, resolved or reopened event up to as_of is not 'resolved'.
create or replace macro what_if_open_complaints(segment_filter, margin_below, plan_filter, kind_filter) as table
with p as (
    select customer_id, window_start, as_of
    from what_if_portfolio(segment_filter, margin_below, plan_filter, kind_filter)
),
complaints as (
    select distinct t.customer_id, t.ticket_id, p.as_of
    from p join tickets t using (customer_id)
    where t.category = 'complaint' and t.action = 'opened'
      and t.occurred_at >= p.window_start and t.occurred_at <= p.as_of
),
states as (
    select c.customer_id, c.ticket_id,
        arg_max(t.action, t.occurred_at) filter (where t.action in ('opened', 'resolved', 'reopened')) as state
    from complaints c
    join tickets t on t.customer_id = c.customer_id and t.ticket_id = c.ticket_id and t.occurred_at <= c.as_of
    group by c.customer_id, c.ticket_id
)
select customer_id, count(*) as open_complaints
from states
where state <> 'resolved'
group by customer_id;

-- The customers the exit of the matched ones puts at risk (collateral damage), one row each, by reason:
--   household: an active, unmatched member of a matched customer's household (households follow the
--              member who leaves);
--   complaint_witness: a profitable (margin_90d > 0), active, unmatched customer with an open complaint,
--              who would see others shown the door; a household member is counted as such only.
create or replace macro what_if_collateral(segment_filter, margin_below, plan_filter, kind_filter) as table
with p as (
    select * from what_if_portfolio(segment_filter, margin_below, plan_filter, kind_filter)
),
affected_households as (
    select distinct household_id from p where matched and household_id is not null
),
members as (
    select p.*, 'household' as reason
    from p join affected_households using (household_id)
    where not p.matched
),
witnesses as (
    select p.*, 'complaint_witness' as reason
    from p join what_if_open_complaints(segment_filter, margin_below, plan_filter, kind_filter) o
        using (customer_id)
    where not p.matched and p.margin_90d > 0
      and p.customer_id not in (select customer_id from members)
)
select reason, customer_id, name, kind, plan, household_id, segment, margin_90d from members
union all
select reason, customer_id, name, kind, plan, household_id, segment, margin_90d from witnesses;
