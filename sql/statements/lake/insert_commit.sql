insert into lake.lake_commits values ($commit_id, $group_id, $pipeline, $now::TIMESTAMP, $messages);
