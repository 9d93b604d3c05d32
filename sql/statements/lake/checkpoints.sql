-- The group's complete checkpoints that fit this schema and these settings, newest first.
select checkpoint_id, path, created_at, commits
from lake.checkpoints
where group_id = $group_id and schema_hash = $schema_hash and settings_hash = $settings_hash
order by created_at desc, checkpoint_id desc;
