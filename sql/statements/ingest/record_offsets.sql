-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- The next offset to land per partition, in the same transaction as the batch. Batches land in order,
-- so the latest batch is right even when it is lower: the broker's log was reset (topic recreated).
insert into consumer_offsets by name
select $group_id::VARCHAR as group_id, topic, "partition", max("offset") + 1 as next_offset, $now::TIMESTAMP as updated_at,
    any_value(topic_id) as topic_id
from incoming
where topic is not null and "offset" is not null
group by all
on conflict do update set
    next_offset = excluded.next_offset, updated_at = excluded.updated_at, topic_id = excluded.topic_id;
