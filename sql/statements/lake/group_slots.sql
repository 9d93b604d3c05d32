select topic, "partition", slot from lake.partition_slots where group_id = $group_id;
