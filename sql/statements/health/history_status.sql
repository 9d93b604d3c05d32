-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- The stored history: its last point, the settings it was derived with, the earliest day marked dirty
-- (null: none) and the messages the pipeline's consumer lagged behind at its last look.
select (select max(as_of) from health_history_norms),
    (select arg_max(params, as_of) from health_history_norms),
    (select min(since) from health_history_dirty),
    (select coalesce(sum(lag), 0) from consumer_lag);
