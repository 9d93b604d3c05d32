-- The lake's commits (bench/lake_scale.py): how many, and the messages of one on average.
select count(*) as batches, avg(messages) as avg_messages from lake.lake_commits;
