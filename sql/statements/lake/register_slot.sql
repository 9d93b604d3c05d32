insert into lake.partition_slots select $group_id, $topic, $partition, $slot
where not exists (
    from lake.partition_slots where group_id = $group_id and topic = $topic and "partition" = $partition
);
