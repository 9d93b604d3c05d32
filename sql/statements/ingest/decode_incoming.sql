-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- The raw bytes of a batch (the batch table `incoming`) as text, parsed once per message for the
-- JSON types (t) and text (s) of every contract field of its event type (paths in contract_paths_<type>();
-- index 1 is the root), how many of those fields it has (present, null or not: contract_fields), and the
-- problem of the message as a whole (envelope_problem), if any. Its origin and raw bytes stay in `incoming`.
insert into decoded
with sized as (
    select ordinal, event_type, raw,
        octet_length(raw) > $max_message_bytes::BIGINT as oversized,
        case when octet_length(raw) <= $max_message_bytes::BIGINT then try(decode(raw)) end as text
    from incoming
), enveloped as (
    select *,
        case
            when oversized then contract_problem('oversized',
                'message is ' || octet_length(raw) || ' bytes, over the limit of ' || $max_message_bytes::BIGINT
                    || ' bytes (pipeline.max_message_bytes)')
            when text is null then contract_problem('not_utf8', 'message is not valid UTF-8')
        end as early_problem
    from sized
), typed as (
    select *,
        case when early_problem is null then try(case event_type
            when 'tickets' then json_type(text, contract_paths_tickets())
            when 'payments' then json_type(text, contract_paths_payments())
            when 'visits' then json_type(text, contract_paths_visits())
            when 'customers' then json_type(text, contract_paths_customers())
        end) end as t
    from enveloped
)
select ordinal, event_type, text, t, list_count(t) - 1 as contract_fields,
    contract_envelope(early_problem, t[1]) as envelope_problem,
    case when contract_envelope(early_problem, t[1]) is null then case event_type
        when 'tickets' then json_extract_string(text, contract_paths_tickets())
        when 'payments' then json_extract_string(text, contract_paths_payments())
        when 'visits' then json_extract_string(text, contract_paths_visits())
        when 'customers' then json_extract_string(text, contract_paths_customers())
    end end as s
from typed;
