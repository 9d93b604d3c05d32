-- Messages and dead letters of the batches committed in the recent window [$recent_start, now] and in the
-- trailing window [$trailing_start, $recent_start) before it.
select
    coalesce(sum(messages) filter (where committed_at >= $recent_start), 0) as recent_messages,
    coalesce(sum(dead_lettered) filter (where committed_at >= $recent_start), 0) as recent_dead,
    coalesce(sum(messages) filter (where committed_at < $recent_start), 0) as trailing_messages,
    coalesce(sum(dead_lettered) filter (where committed_at < $recent_start), 0) as trailing_dead
from ingest_batches
where committed_at >= $trailing_start;
