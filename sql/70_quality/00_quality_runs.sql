-- One row per validation of one suite: on a landed batch (scope 'batch', batch_id set) or on a stored
-- table (scope 'table', by the pipeline's schedule or `customer-health check`). Times are UTC.
create sequence if not exists quality_run_ids start 1;
create table if not exists quality_runs (
    run_id          bigint primary key,  -- from sequence quality_run_ids (no column default: see NOTES)
    run_at          timestamp not null,
    scope           varchar not null,    -- 'batch' or 'table'
    suite           varchar not null,    -- expectations/<suite>.py
    trigger         varchar not null,    -- 'pipeline', 'schedule', 'check', 'load'
    batch_id        bigint,
    rows_validated  bigint not null,
    expectations    integer not null,
    failed          integer not null,
    critical_failed integer not null,
    quarantined     integer not null,
    success         boolean not null,    -- no critical expectation failed
    duration_ms     double not null
);
