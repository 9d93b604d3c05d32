-- Contract v1 for customer profile upserts: typed columns plus the list of problems (empty list: valid).
create or replace temp table checked_customers as
with checked as (
    select *,
        case when envelope_problem is not null then [envelope_problem] else list_filter([
            contract_string(j, 'event_id', true),
            contract_string(j, 'customer_id', true),
            contract_timestamp(j, 'occurred_at', true),
            contract_string(j, 'name', true),
            contract_enum(j, 'kind', ['b2b', 'b2c'], true),
            contract_string(j, 'plan', true),
            contract_string(j, 'household_id', false),
            contract_timestamp(j, 'signed_up_at', true),
            contract_timestamp(j, 'cancelled_at', false)
        ], p -> p is not null) end as problems
    from decoded
    where event_type = 'customers'
)
select ordinal, problems,
    j ->> 'event_id' as event_id,
    j ->> 'customer_id' as customer_id,
    contract_utc(j ->> 'occurred_at') as occurred_at,
    j ->> 'name' as name,
    j ->> 'kind' as kind,
    j ->> 'plan' as plan,
    j ->> 'household_id' as household_id,
    contract_utc(j ->> 'signed_up_at') as signed_up_at,
    contract_utc(j ->> 'cancelled_at') as cancelled_at,
    contract_extra(j, ['event_id', 'customer_id', 'occurred_at', 'name', 'kind', 'plan', 'household_id',
        'signed_up_at', 'cancelled_at']) as extra
from checked;
