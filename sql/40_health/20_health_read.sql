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
