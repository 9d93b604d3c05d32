-- One row per refresh of health_state: incremental (the customers a batch touched) or full.
create sequence if not exists health_refresh_ids start 1;
create table if not exists health_refreshes (
    refresh_id      bigint primary key,  -- from sequence health_refresh_ids
    kind            varchar not null,    -- incremental, full
    reason          varchar not null,    -- batch, day_rollover, norms_age, norms_growth, first, manual
    as_of           timestamp not null,
    batch_id        bigint,
    customers       integer not null,    -- rows refreshed
    segment_changes integer not null,
    duration_ms     double
);
