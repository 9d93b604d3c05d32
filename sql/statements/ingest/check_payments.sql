-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Contract v1 for payments: typed columns plus the list of problems (empty list: valid).
-- Reads each field from the lists decode_incoming parsed once per message (never once per field and check).
insert into checked_payments
with typed as (
    select ordinal, text, contract_fields, envelope_problem,
        contract_field(t, s, 2) as event_id,
        contract_field(t, s, 3) as customer_id,
        contract_field(t, s, 4) as occurred_at,
        contract_field(t, s, 5) as invoice_id,
        contract_field(t, s, 6) as kind,
        contract_field(t, s, 7) as status,
        contract_field(t, s, 8) as amount,
        contract_field(t, s, 9) as currency,
        contract_field(t, s, 10) as due_at
    from decoded
    where event_type = 'payments'
), checked as (
    select *,
        case when envelope_problem is not null then [envelope_problem] else list_filter([
            contract_string(event_id, 'event_id', true),
            contract_string(customer_id, 'customer_id', true),
            contract_timestamp(occurred_at, 'occurred_at', true),
            contract_string(invoice_id, 'invoice_id', true),
            contract_enum(kind, 'kind', ['charge', 'refund', 'chargeback', 'credit'], true),
            contract_enum(status, 'status', ['succeeded', 'failed', 'pending'], true),
            contract_decimal(amount, 'amount', 0, true, true),
            contract_currency(currency, 'currency'),
            contract_timestamp(due_at, 'due_at', false)
        ], p -> p is not null) end as problems
    from typed
)
select ordinal, problems,
    contract_text(event_id) as event_id,
    contract_text(customer_id) as customer_id,
    contract_utc(occurred_at) as occurred_at,
    contract_text(invoice_id) as invoice_id,
    contract_text(kind) as kind,
    contract_text(status) as status,
    try_cast(contract_text(amount) as decimal(18, 4)) as amount,
    contract_text(currency) as currency,
    contract_utc(due_at) as due_at,
    case when envelope_problem is null then contract_extra(text, contract_fields) end as extra
from checked;
