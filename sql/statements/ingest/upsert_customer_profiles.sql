-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Current profile per customer: a profile event replaces the stored one only if it is not older,
-- so late or replayed events never roll a profile back.
insert into customers
select customer_id, name, kind, plan, household_id, signed_up_at, cancelled_at, occurred_at
from checked_customers
where len(problems) = 0
qualify row_number() over (partition by customer_id order by occurred_at desc, ordinal desc) = 1
on conflict (customer_id) do update set
    name = excluded.name,
    kind = excluded.kind,
    plan = excluded.plan,
    household_id = excluded.household_id,
    signed_up_at = excluded.signed_up_at,
    cancelled_at = excluded.cancelled_at,
    profile_updated_at = excluded.profile_updated_at
where excluded.profile_updated_at >= customers.profile_updated_at;
