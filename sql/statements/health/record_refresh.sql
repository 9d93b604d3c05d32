-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Log one refresh of health_state.
insert into health_refreshes
select nextval('health_refresh_ids'), $kind::VARCHAR, $reason::VARCHAR, $now::TIMESTAMP, $batch_id::BIGINT,
    (select count(*) from health_refreshed),
    (select count(*) from health_refreshed where segment_changed),
    $duration_ms::DOUBLE;
