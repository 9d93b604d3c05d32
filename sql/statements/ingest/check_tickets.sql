-- Contract v1 for tickets: typed columns plus the list of problems (empty list: valid).
-- Each message is parsed once for the types of all its fields and once for their text (the paths are
-- listed in contract_paths_tickets(); index 1 is the root), never once per field and check.
create or replace temp table checked_tickets as
with parsed as (
    select ordinal, early_problem, text,
        case when early_problem is null then try(json_type(text, contract_paths_tickets())) end as t
    from decoded
    where event_type = 'tickets'
), fields as (
    select ordinal, text, t, contract_envelope(early_problem, t[1]) as envelope_problem,
        case when contract_envelope(early_problem, t[1]) is null
            then json_extract_string(text, contract_paths_tickets()) end as s
    from parsed
), typed as materialized (
    select ordinal, text, envelope_problem,
        {'type': coalesce(nullif(t[2], 'NULL'), 'MISSING'), 'text': s[2]} as event_id,
        {'type': coalesce(nullif(t[3], 'NULL'), 'MISSING'), 'text': s[3]} as customer_id,
        {'type': coalesce(nullif(t[4], 'NULL'), 'MISSING'), 'text': s[4]} as occurred_at,
        {'type': coalesce(nullif(t[5], 'NULL'), 'MISSING'), 'text': s[5]} as ticket_id,
        {'type': coalesce(nullif(t[6], 'NULL'), 'MISSING'), 'text': s[6]} as action,
        {'type': coalesce(nullif(t[7], 'NULL'), 'MISSING'), 'text': s[7]} as category,
        {'type': coalesce(nullif(t[8], 'NULL'), 'MISSING'), 'text': s[8]} as channel,
        {'type': coalesce(nullif(t[9], 'NULL'), 'MISSING'), 'text': s[9]} as handling_minutes,
        {'type': coalesce(nullif(t[10], 'NULL'), 'MISSING'), 'text': s[10]} as escalated,
        {'type': coalesce(nullif(t[11], 'NULL'), 'MISSING'), 'text': s[11]} as compensation_requested,
        {'type': coalesce(nullif(t[12], 'NULL'), 'MISSING'), 'text': s[12]} as compensation_granted,
        {'type': coalesce(nullif(t[13], 'NULL'), 'MISSING'), 'text': s[13]} as sentiment
    from fields
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
    case when envelope_problem is null then contract_extra(text, ['event_id', 'customer_id', 'occurred_at', 'ticket_id', 'action', 'category', 'channel', 'handling_minutes', 'escalated', 'compensation_requested', 'compensation_granted', 'sentiment']) end as extra
from checked;
