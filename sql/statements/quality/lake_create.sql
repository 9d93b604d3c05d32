-- store = "ducklake": the quality runs of every writer of the group's lake (attached as `lake`): the batch
-- suites of each batch a pipeline landed, its scheduled table suites, and the stored runs of `check`.
-- Append-only, so that writers recording at once never conflict (DuckLake checks conflicts per table: inserts
-- beside inserts commit); each run's rows are written once. Old runs are pruned by `lake-maintain` only.
-- One row per run: quality_runs' columns as the writer recorded them (run_id: the writer's own).
create table if not exists lake.quality_run_log (
    group_id        varchar not null,
    pipeline        varchar not null,    -- the writer: a pipeline's lake member, or check-<member>
    recorded_at     timestamp not null,  -- UTC
    run_id          bigint not null,     -- unique per writer only
    run_at          timestamp not null,
    scope           varchar not null,
    suite           varchar not null,
    trigger         varchar not null,
    batch_id        bigint,              -- the writer's batch
    rows_validated  bigint not null,
    expectations    integer not null,
    failed          integer not null,
    critical_failed integer not null,
    quarantined     integer not null,
    success         boolean not null,
    duration_ms     double not null
);
-- One row per stored expectation result of a run (quality_results' columns; result_id: the writer's own).
create table if not exists lake.quality_result_log (
    group_id         varchar not null,
    pipeline         varchar not null,
    result_id        bigint not null,
    run_id           bigint not null,
    run_at           timestamp not null,
    scope            varchar not null,
    suite            varchar not null,
    expectation      varchar not null,
    expectation_type varchar not null,
    column_name      varchar,
    critical         boolean not null,
    success          boolean not null,
    element_count    bigint,
    unexpected_count bigint,
    observed_value   varchar,            -- JSON text
    failing_sample   varchar,            -- JSON text
    error            varchar,
    batch_id         bigint
);
