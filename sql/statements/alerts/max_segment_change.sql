-- The newest segment change (change_seq grows in write order; rowids do not: retracted changes are deleted).
select coalesce(max(change_seq), -1) from segment_changes;
