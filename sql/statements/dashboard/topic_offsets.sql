-- Per Kafka topic: partitions seen, landed offsets and when the pipeline last advanced them (UTC).
select
    topic,
    count(*)          as partitions,
    sum(next_offset)  as next_offsets,
    max(updated_at)   as last_advanced_at
from consumer_offsets
where group_id = $group_id
group by topic
order by topic;
