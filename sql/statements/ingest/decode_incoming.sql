-- The raw bytes of a batch (the registered relation `incoming`) as text, with the problems found before
-- any parsing: oversized, not UTF-8. JSON is parsed once per message, in the check_* statements.
create or replace temp table decoded as
with sized as (
    select *,
        octet_length(raw) > $max_message_bytes as oversized,
        case when octet_length(raw) <= $max_message_bytes then try(decode(raw)) end as text
    from incoming
)
select ordinal, event_type, topic, "partition", "offset", source_file, source_line, message_key, raw,
    produced_at, topic_id, text,
    case
        when oversized then contract_problem('oversized',
            'message is ' || octet_length(raw) || ' bytes, over the limit of ' || $max_message_bytes)
        when text is null then contract_problem('not_utf8', 'message is not valid UTF-8')
    end as early_problem
from sized;
