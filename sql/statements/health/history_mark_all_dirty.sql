-- The whole history is dirty (since the earliest day, as after a settings change): a backfill's first
-- transaction marks it, its second derives the history and clears the mark (health/history_delete_norms),
-- so that a finish stopped in between leaves the pipeline's history rebuild to do it.
insert into health_history_dirty values ('0001-01-01'::date, $now::TIMESTAMP);
