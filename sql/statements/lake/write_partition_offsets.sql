-- Replace the partition's one row (the delete is what makes a concurrent writer of this partition conflict).
delete from lake.__offsets__;
insert into lake.__offsets__ values ($next_offset, $topic_id, $owner, $now::TIMESTAMP);
