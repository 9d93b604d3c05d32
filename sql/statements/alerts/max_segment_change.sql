-- The newest segment change (rowid: segment_changes is append-only, so rowids grow in commit order).
select coalesce(max(rowid), -1) from segment_changes;
