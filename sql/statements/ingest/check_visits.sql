-- Contract v1 for visits: typed columns plus the list of problems (empty list: valid).
-- Each message is parsed once for the types of all its fields and once for their text (the paths are
-- listed in contract_paths_visits(); index 1 is the root), never once per field and check.
create or replace temp table checked_visits as
with parsed as (
    select ordinal, early_problem, text,
        case when early_problem is null then try(json_type(text, contract_paths_visits())) end as t
    from decoded
    where event_type = 'visits'
), fields as (
    select ordinal, text, t, contract_envelope(early_problem, t[1]) as envelope_problem,
        case when contract_envelope(early_problem, t[1]) is null
            then json_extract_string(text, contract_paths_visits()) end as s
    from parsed
), typed as materialized (
    select ordinal, text, envelope_problem,
        {'type': coalesce(nullif(t[2], 'NULL'), 'MISSING'), 'text': s[2]} as event_id,
        {'type': coalesce(nullif(t[3], 'NULL'), 'MISSING'), 'text': s[3]} as customer_id,
        {'type': coalesce(nullif(t[4], 'NULL'), 'MISSING'), 'text': s[4]} as occurred_at,
        {'type': coalesce(nullif(t[5], 'NULL'), 'MISSING'), 'text': s[5]} as session_id,
        {'type': coalesce(nullif(t[6], 'NULL'), 'MISSING'), 'text': s[6]} as channel,
        {'type': coalesce(nullif(t[7], 'NULL'), 'MISSING'), 'text': s[7]} as duration_seconds,
        {'type': coalesce(nullif(t[8], 'NULL'), 'MISSING'), 'text': s[8]} as pages
    from fields
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
    case when envelope_problem is null then contract_extra(text, ['event_id', 'customer_id', 'occurred_at', 'session_id', 'channel', 'duration_seconds', 'pages']) end as extra
from checked;
