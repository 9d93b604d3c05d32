-- The group's checkpoints older than its $keep newest (whatever their settings): to be removed.
select checkpoint_id, path from (
    select checkpoint_id, path, row_number() over (order by created_at desc, checkpoint_id desc) as age
    from lake.checkpoints where group_id = $group_id
) where age > $keep;
