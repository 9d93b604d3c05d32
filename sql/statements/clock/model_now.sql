-- prepared: run once per batch by the lander, so every parameter carries its type ($name::TYPE)
-- The model's now (UTC) when the wall clock says $wall (see health_model_now in sql/20_raw/model_clock.sql).
select health_model_now($wall::TIMESTAMP);
