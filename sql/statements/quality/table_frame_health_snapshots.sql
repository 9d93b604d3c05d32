-- Table-suite frame: health snapshots taken since $window_start (at most $max_rows, newest first).
select customer_id, snapshot_at, health_score::double as health_score, segment
from health_snapshots
where snapshot_at >= $window_start
order by snapshot_at desc
limit $max_rows;
