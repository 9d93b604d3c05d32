-- A batch's commit: the partition's next offset, only while this pipeline owns it (0 rows updated:
-- another pipeline claimed it, the batch is given up). An update replaces the table's one row, so two
-- transactions writing one partition conflict at commit, while other partitions' tables never do.
update lake.__offsets__ set next_offset = $next_offset, topic_id = $topic_id, claimed_at = $now::TIMESTAMP
where owner = $owner;
