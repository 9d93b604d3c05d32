-- The batch's rows failing a critical batch expectation (filled by expectations.batch per batch), created
-- once per connection: columns in the order of the Arrow table it is filled from.
create temp table if not exists quality_failing_rows (
    ordinal bigint,
    run_id bigint,
    expectations varchar[],
    reason varchar
);
