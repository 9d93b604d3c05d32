-- The messages of the given commits as the `incoming` relation of landing: ordinal numbers them in
-- (topic, partition, offset) order, so that a replay lands them in the order of the log.
select (row_number() over (order by topic, "partition", "offset", source_file, source_line) - 1)::bigint as ordinal,
    event_type, topic, "partition", "offset", source_file, source_line, message_key, raw,
    produced_at::timestamp_ms as produced_at, topic_id
from lake.raw_messages
where commit_id in (select unnest($commit_ids::VARCHAR[]))
order by ordinal;
