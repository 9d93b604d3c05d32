-- The next offset to land per partition, in the same transaction as the batch (never moves backwards).
insert into consumer_offsets
select $group_id, topic, "partition", max("offset") + 1, $now
from incoming
where topic is not null and "offset" is not null
group by all
on conflict do update set
    next_offset = greatest(consumer_offsets.next_offset, excluded.next_offset),
    updated_at = excluded.updated_at;
