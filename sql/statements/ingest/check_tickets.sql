-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Contract v1 for tickets: typed columns plus the list of problems (empty list: valid).
-- Reads each field from the lists decode_incoming parsed once per message (never once per field and check).
insert into checked_tickets
with typed as (
    select ordinal, text, contract_fields, envelope_problem,
        contract_field(t, s, 2) as event_id,
        contract_field(t, s, 3) as customer_id,
        contract_field(t, s, 4) as occurred_at,
        contract_field(t, s, 5) as ticket_id,
        contract_field(t, s, 6) as action,
        contract_field(t, s, 7) as category,
        contract_field(t, s, 8) as channel,
        contract_field(t, s, 9) as handling_minutes,
        contract_field(t, s, 10) as escalated,
        contract_field(t, s, 11) as compensation_requested,
        contract_field(t, s, 12) as compensation_granted,
        contract_field(t, s, 13) as sentiment
    from decoded
    where event_type = 'tickets'
), checked as (
    select *,
        case when envelope_problem is not null then [envelope_problem] else list_filter([
            contract_string(event_id, 'event_id', true),
            contract_string(customer_id, 'customer_id', true),
            contract_timestamp(occurred_at, 'occurred_at', true),
            contract_string(ticket_id, 'ticket_id', true),
            contract_enum(action, 'action', ['opened', 'updated', 'resolved', 'reopened'], true),
            contract_enum(category, 'category', ['how_to', 'bug', 'billing', 'complaint', 'compensation_request',
            'cancellation', 'legal_threat', 'other'], true),
            contract_enum(channel, 'channel', ['phone', 'email', 'chat', 'in_person', 'social'], true),
            contract_number(handling_minutes, 'handling_minutes', 0, false, 1e308, true),
            contract_boolean(escalated, 'escalated', true),
            contract_decimal(compensation_requested, 'compensation_requested', 0, false, false),
            contract_decimal(compensation_granted, 'compensation_granted', 0, false, false),
            contract_number(sentiment, 'sentiment', -1, false, 1, false)
        ], p -> p is not null) end as problems
    from typed
)
select ordinal, problems,
    contract_text(event_id) as event_id,
    contract_text(customer_id) as customer_id,
    contract_utc(occurred_at) as occurred_at,
    contract_text(ticket_id) as ticket_id,
    contract_text(action) as action,
    contract_text(category) as category,
    contract_text(channel) as channel,
    try_cast(contract_text(handling_minutes) as double) as handling_minutes,
    try_cast(contract_text(escalated) as boolean) as escalated,
    try_cast(contract_text(compensation_requested) as decimal(18, 2)) as compensation_requested,
    try_cast(contract_text(compensation_granted) as decimal(18, 2)) as compensation_granted,
    try_cast(contract_text(sentiment) as double) as sentiment,
    case when envelope_problem is null then contract_extra(text, contract_fields) end as extra
from checked;
