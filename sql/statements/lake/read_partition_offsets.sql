-- The partition's position and owner (one row).
select next_offset, topic_id, owner from lake.__offsets__;
