-- Dead letters, newest first, optionally for one reason code and one event type (null: all).
-- raw_preview: the message as text (bytes that are not UTF-8 escaped as \xNN), first 1,000 characters.
select
    dead_letter_id,
    dead_lettered_at,
    coalesce(event_type, 'unknown')                                     as event_type,
    reason_code,
    reason,
    coalesce(topic || '[' || "partition" || ']@' || "offset",
             source_file || ':' || source_line)                          as origin,
    batch_id,
    octet_length(raw)                                                    as raw_bytes,
    left(coalesce(try(decode(raw)), raw::varchar), 1000)                 as raw_preview
from dead_letter
where ($reason_code is null or reason_code = $reason_code)
  and ($event_type is null or coalesce(event_type, 'unknown') = $event_type)
order by dead_letter_id desc
limit $limit;
