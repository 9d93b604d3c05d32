-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Contract v1 for visits: typed columns plus the list of problems (empty list: valid).
-- Reads each field from the lists decode_incoming parsed once per message (never once per field and check).
insert into checked_visits
with typed as (
    select ordinal, text, contract_fields, envelope_problem,
        contract_field(t, s, 2) as event_id,
        contract_field(t, s, 3) as customer_id,
        contract_field(t, s, 4) as occurred_at,
        contract_field(t, s, 5) as session_id,
        contract_field(t, s, 6) as channel,
        contract_field(t, s, 7) as duration_seconds,
        contract_field(t, s, 8) as pages
    from decoded
    where event_type = 'visits'
), checked as (
    select *,
        case when envelope_problem is not null then [envelope_problem] else list_filter([
            contract_string(event_id, 'event_id', true),
            contract_string(customer_id, 'customer_id', true),
            contract_timestamp(occurred_at, 'occurred_at', true),
            contract_string(session_id, 'session_id', true),
            contract_enum(channel, 'channel', ['web', 'app', 'store', 'phone'], true),
            contract_number(duration_seconds, 'duration_seconds', 0, false, 1e308, true),
            contract_integer(pages, 'pages', 0, false)
        ], p -> p is not null) end as problems
    from typed
)
select ordinal, problems,
    contract_text(event_id) as event_id,
    contract_text(customer_id) as customer_id,
    contract_utc(occurred_at) as occurred_at,
    contract_text(session_id) as session_id,
    contract_text(channel) as channel,
    try_cast(contract_text(duration_seconds) as double) as duration_seconds,
    try_cast(contract_text(pages) as integer) as pages,
    case when envelope_problem is null then contract_extra(text, contract_fields) end as extra
from checked;
