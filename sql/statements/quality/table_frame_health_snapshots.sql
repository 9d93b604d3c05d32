-- Table-suite frame: health snapshots of the last window (at most $max_rows, newest first). snapshot_at is a
-- point of the model's time (00:00 UTC of a model day), so the window ends at the model's now
-- (health_model_now($now), $now the wall clock): $window_start moved by the model clock's offset from it.
select customer_id, snapshot_at, health_score::double as health_score, segment
from health_snapshots
where snapshot_at >= $window_start::timestamp + (health_model_now($now::timestamp) - $now::timestamp)
order by snapshot_at desc
limit $max_rows;
