-- prepared: run once per history point, so every parameter carries its type ($name::TYPE)
-- The history point at health_point_context's time (00:00 UTC of a day): every customer computed from
-- scratch then (health_computed, chained from the points before it), into health_refreshed. No norms are
-- stored for it yet (health/history_delete_norms), so the point computes its own. Time and settings come
-- from health_point_context: planned once, not at each point.
insert into health_refreshed by name
select *, false as segment_changed
from health_computed((select params from health_point_context), (select point_at from health_point_context));
