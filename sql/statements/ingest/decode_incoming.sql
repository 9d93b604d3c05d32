-- Envelope checks on the raw bytes of a batch (the registered relation `incoming`): size, UTF-8, JSON.
create or replace temp table decoded as
with sized as (
    select *,
        octet_length(raw) > $max_message_bytes as oversized,
        case when octet_length(raw) <= $max_message_bytes then try(decode(raw)) end as text
    from incoming
), parsed as (
    select *, case when json_valid(text) then text::json end as parsed_json from sized
)
select ordinal, event_type, topic, "partition", "offset", source_file, source_line, message_key, raw,
    produced_at,
    case
        when oversized then contract_problem('oversized',
            'message is ' || octet_length(raw) || ' bytes, over the limit of ' || $max_message_bytes)
        when text is null then contract_problem('not_utf8', 'message is not valid UTF-8')
        when parsed_json is null then contract_problem('invalid_json', 'message is not valid JSON')
        when json_type(parsed_json) <> 'OBJECT' then
            contract_problem('not_an_object', 'message must be a JSON object, got ' || lower(json_type(parsed_json)))
    end as envelope_problem,
    case when json_type(parsed_json) = 'OBJECT' then parsed_json end as j
from parsed;
