-- prepared: run once per history point, so every parameter carries its type ($name::TYPE)
delete from health_point_context;
