insert into lake.checkpoints values ($checkpoint_id, $group_id, $pipeline, $now::TIMESTAMP, $path, $schema_hash,
    $settings_hash, $commits, $messages);
