-- prepared: run once per history point, so every parameter carries its type ($name::TYPE)
-- The point being derived: its time $at and the settings, into health_point_context (emptied first by
-- health/history_point_done).
insert into health_point_context select $params::JSON, $at::TIMESTAMP;
