-- Health rows of src (a health_state-shaped relation, maintained or computed at as_of) for the known
-- customers (with a profile), plus what is decided at read time: the next step (from the interventions
-- recorded up to as_of), household and return-after-exit flags, and the customer's name.
create or replace macro health_presented(src, as_of) as table
with tried as (
    select * from health_interventions_tried(as_of)
),
flags as (
    select * from health_household_flags(src, as_of)
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
    unnest(health_next_step(h.customer_id, h.segment, h.segment_reason, h.playbook_words, tried.tried, as_of)),
    coalesce(tried.tried, []) as interventions_tried,
    tried.exited_at,
    flags.household_churned,
    len(flags.household_churned) > 0 as household_churn_flag,
    flags.returned_after_exit,
    flags.returned_after_exit_of,
    h.playbook
from worded h
join customers c using (customer_id)
left join tried using (customer_id)
left join flags using (customer_id);

-- Current health of every known customer as maintained by the pipeline in health_state (see
-- health_presented); what the dashboard, the alerts and `customer-health customer` read.
create or replace view customer_health as
select * from health_presented('health_state', health_utc_now());
