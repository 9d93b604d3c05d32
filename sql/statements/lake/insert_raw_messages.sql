-- The batch's messages (the registered Arrow relation lake_batch) under its commit id.
insert into lake.raw_messages
select $commit_id, event_type, topic, "partition", "offset", source_file, source_line, message_key, raw, produced_at,
    topic_id
from lake_batch;
