delete from lake.checkpoints where group_id = $group_id and checkpoint_id in (select unnest($ids::VARCHAR[]));
