-- Every commit of the consumer group, oldest first.
select commit_id, pipeline, messages from lake.lake_commits where group_id = $group_id order by committed_at, commit_id;
