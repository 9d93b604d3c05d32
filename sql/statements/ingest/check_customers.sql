-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Contract v1 for customer profile upserts: typed columns plus the list of problems (empty list: valid).
-- Reads each field from the lists decode_incoming parsed once per message (never once per field and check).
insert into checked_customers
with typed as (
    select ordinal, text, contract_fields, envelope_problem,
        contract_field(t, s, 2) as event_id,
        contract_field(t, s, 3) as customer_id,
        contract_field(t, s, 4) as occurred_at,
        contract_field(t, s, 5) as name,
        contract_field(t, s, 6) as kind,
        contract_field(t, s, 7) as plan,
        contract_field(t, s, 8) as household_id,
        contract_field(t, s, 9) as signed_up_at,
        contract_field(t, s, 10) as cancelled_at
    from decoded
    where event_type = 'customers'
), checked as (
    select *,
        case when envelope_problem is not null then [envelope_problem] else list_filter([
            contract_string(event_id, 'event_id', true),
            contract_string(customer_id, 'customer_id', true),
            contract_timestamp(occurred_at, 'occurred_at', true),
            contract_string(name, 'name', true),
            contract_enum(kind, 'kind', ['b2b', 'b2c'], true),
            contract_string(plan, 'plan', true),
            contract_string(household_id, 'household_id', false),
            contract_day_or_timestamp(signed_up_at, 'signed_up_at', true),
            contract_day_or_timestamp(cancelled_at, 'cancelled_at', false)
        ], p -> p is not null) end as problems
    from typed
)
select ordinal, problems,
    contract_text(event_id) as event_id,
    contract_text(customer_id) as customer_id,
    contract_utc(occurred_at) as occurred_at,
    contract_text(name) as name,
    contract_text(kind) as kind,
    contract_text(plan) as plan,
    contract_text(household_id) as household_id,
    contract_day_or_utc(signed_up_at) as signed_up_at,
    contract_day_or_utc(cancelled_at) as cancelled_at,
    case when envelope_problem is null then contract_extra(text, contract_fields) end as extra
from checked;
