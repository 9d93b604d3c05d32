-- Per playbook step (in the order of playbook_steps()), how many of the matched customers
-- (what_if_portfolio) have had it tried, and whether the playbook tries it before an exit.
with steps as (
    select unnest(playbook_steps()) as step, generate_subscripts(playbook_steps(), 1) as position
),
m as (
    select * from what_if_portfolio($segments, $margin_below, $plan, $kind) where matched
)
select s.step,
    -- A step the playbook tries before an exit is the first untried one once every other step was tried.
    health_first_untried([{'step': x, 'tried_at': '-infinity'::timestamp}
        for x in playbook_steps() if x <> s.step]) is not distinct from s.step as before_exit,
    count(m.customer_id) as customers_tried
from steps s
left join m on list_contains([t.step for t in m.interventions_tried], s.step)
group by s.step, s.position
order by s.position;
