-- The matched customers (what_if_portfolio), least profitable first: their 90-day figures, the steps
-- tried so far and whether they are ready to exit (every step the playbook tries before an exit was
-- tried); first_untried names the first that was not.
select customer_id, name, kind, plan, household_id, segment,
    round(revenue_90d, 2) as revenue_90d, round(cost_to_serve_90d, 2) as cost_to_serve_90d,
    round(margin_90d, 2) as margin_90d, round(support_minutes_90d, 2) as support_minutes_90d,
    first_untried is null as ready, first_untried,
    list_sort(list_distinct([t.step for t in interventions_tried])) as steps_tried,
    next_step
from what_if_portfolio($segments, $margin_below, $plan, $kind)
where matched
order by margin_90d, customer_id;
