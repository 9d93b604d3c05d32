-- Every message the pipelines of a lake have committed (bench/lake_scale.py): each batch's messages are
-- committed once, with their offsets, so this equals the messages produced once all landed.
select coalesce(sum(messages), 0)::bigint as accounted from lake.lake_commits;
