-- prepared: run once per history point, so every parameter carries its type ($name::TYPE)
-- The point is stored: health_refreshed and health_point_context are emptied for what follows.
delete from health_refreshed;
