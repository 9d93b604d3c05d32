-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- The stored history: its last point, the settings it was derived with, the earliest day marked dirty
-- (null: none) and the messages the pipeline's consumer lags behind: per partition, the end offset at its
-- last look less the offset landed since (this transaction's batch included), so the batch that lands the
-- rest of a backlog sees it caught up.
select (select max(as_of) from health_history_norms),
    (select arg_max(params, as_of) from health_history_norms),
    (select min(since) from health_history_dirty),
    (select coalesce(sum(greatest(0, lag.end_offset - greatest(lag.next_offset, coalesce(landed.next_offset, 0)))), 0)
     from consumer_lag as lag
     left join consumer_offsets as landed
         on landed.group_id = $group_id::VARCHAR and landed.topic = lag.topic
         and landed."partition" = lag."partition");
