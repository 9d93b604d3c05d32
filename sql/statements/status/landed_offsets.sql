select topic, "partition", next_offset from consumer_offsets where group_id = $group_id order by all;
