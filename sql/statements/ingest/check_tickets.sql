-- Contract v1 for tickets: typed columns plus the list of problems (empty list: valid).
create or replace temp table checked_tickets as
with checked as (
    select *,
        case when envelope_problem is not null then [envelope_problem] else list_filter([
            contract_string(j, 'event_id', true),
            contract_string(j, 'customer_id', true),
            contract_timestamp(j, 'occurred_at', true),
            contract_string(j, 'ticket_id', true),
            contract_enum(j, 'action', ['opened', 'updated', 'resolved', 'reopened'], true),
            contract_enum(j, 'category', ['how_to', 'bug', 'billing', 'complaint', 'compensation_request',
                'cancellation', 'legal_threat', 'other'], true),
            contract_enum(j, 'channel', ['phone', 'email', 'chat', 'in_person', 'social'], true),
            contract_number(j, 'handling_minutes', 0, false, 1e308, true),
            contract_boolean(j, 'escalated', true),
            contract_decimal(j, 'compensation_requested', 0, false, false),
            contract_decimal(j, 'compensation_granted', 0, false, false),
            contract_number(j, 'sentiment', -1, false, 1, false)
        ], p -> p is not null) end as problems
    from decoded
    where event_type = 'tickets'
)
select ordinal, problems,
    j ->> 'event_id' as event_id,
    j ->> 'customer_id' as customer_id,
    contract_utc(j ->> 'occurred_at') as occurred_at,
    j ->> 'ticket_id' as ticket_id,
    j ->> 'action' as action,
    j ->> 'category' as category,
    j ->> 'channel' as channel,
    try_cast(j ->> 'handling_minutes' as double) as handling_minutes,
    try_cast(j ->> 'escalated' as boolean) as escalated,
    try_cast(j ->> 'compensation_requested' as decimal(18, 2)) as compensation_requested,
    try_cast(j ->> 'compensation_granted' as decimal(18, 2)) as compensation_granted,
    try_cast(j ->> 'sentiment' as double) as sentiment,
    contract_extra(j, ['event_id', 'customer_id', 'occurred_at', 'ticket_id', 'action', 'category', 'channel',
        'handling_minutes', 'escalated', 'compensation_requested', 'compensation_granted', 'sentiment']) as extra
from checked;
