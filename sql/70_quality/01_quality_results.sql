-- One row per expectation per run. Table runs store every expectation (the history of the ops page);
-- batch runs store failed expectations only (a run row says how many passed). Times are UTC.
create sequence if not exists quality_result_ids start 1;
create table if not exists quality_results (
    result_id        bigint primary key,  -- from sequence quality_result_ids; alert cursor position
    run_id           bigint not null,
    run_at           timestamp not null,
    scope            varchar not null,
    suite            varchar not null,
    expectation      varchar not null,    -- type(columns), e.g. expect_column_values_to_be_between(amount)
    expectation_type varchar not null,
    column_name      varchar,
    critical         boolean not null,
    success          boolean not null,
    element_count    bigint,
    unexpected_count bigint,
    observed_value   json,                -- GX observed value, or unexpected count/percent and examples
    failing_sample   json,                -- up to quality.failing_sample_rows failing rows
    error            varchar,             -- the expectation could not be evaluated (e.g. missing column)
    batch_id         bigint
);
