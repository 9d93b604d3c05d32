-- Contract v1 for payments: typed columns plus the list of problems (empty list: valid).
create or replace temp table checked_payments as
with checked as (
    select *,
        case when envelope_problem is not null then [envelope_problem] else list_filter([
            contract_string(j, 'event_id', true),
            contract_string(j, 'customer_id', true),
            contract_timestamp(j, 'occurred_at', true),
            contract_string(j, 'invoice_id', true),
            contract_enum(j, 'kind', ['charge', 'refund', 'chargeback', 'credit'], true),
            contract_enum(j, 'status', ['succeeded', 'failed', 'pending'], true),
            contract_decimal(j, 'amount', 0, true, true),
            contract_currency(j, 'currency'),
            contract_timestamp(j, 'due_at', false)
        ], p -> p is not null) end as problems
    from decoded
    where event_type = 'payments'
)
select ordinal, problems,
    j ->> 'event_id' as event_id,
    j ->> 'customer_id' as customer_id,
    contract_utc(j ->> 'occurred_at') as occurred_at,
    j ->> 'invoice_id' as invoice_id,
    j ->> 'kind' as kind,
    j ->> 'status' as status,
    try_cast(j ->> 'amount' as decimal(18, 4)) as amount,
    j ->> 'currency' as currency,
    contract_utc(j ->> 'due_at') as due_at,
    contract_extra(j, ['event_id', 'customer_id', 'occurred_at', 'invoice_id', 'kind', 'status', 'amount',
        'currency', 'due_at']) as extra
from checked;
