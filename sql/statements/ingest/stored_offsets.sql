-- Where the pipeline resumes: the next offset to land per partition of this consumer group.
select topic, "partition", next_offset, topic_id from consumer_offsets where group_id = $group_id;
