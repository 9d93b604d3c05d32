-- Contract v1 for visits: typed columns plus the list of problems (empty list: valid).
create or replace temp table checked_visits as
with checked as (
    select *,
        case when envelope_problem is not null then [envelope_problem] else list_filter([
            contract_string(j, 'event_id', true),
            contract_string(j, 'customer_id', true),
            contract_timestamp(j, 'occurred_at', true),
            contract_string(j, 'session_id', true),
            contract_enum(j, 'channel', ['web', 'app', 'store', 'phone'], true),
            contract_number(j, 'duration_seconds', 0, false, 1e308, true),
            contract_integer(j, 'pages', 0, false)
        ], p -> p is not null) end as problems
    from decoded
    where event_type = 'visits'
)
select ordinal, problems,
    j ->> 'event_id' as event_id,
    j ->> 'customer_id' as customer_id,
    contract_utc(j ->> 'occurred_at') as occurred_at,
    j ->> 'session_id' as session_id,
    j ->> 'channel' as channel,
    try_cast(j ->> 'duration_seconds' as double) as duration_seconds,
    try_cast(j ->> 'pages' as integer) as pages,
    contract_extra(j, ['event_id', 'customer_id', 'occurred_at', 'session_id', 'channel', 'duration_seconds',
        'pages']) as extra
from checked;
