-- A reader's copy of the lake: the group's quality runs and results (registered relations `lake_runs`,
-- `lake_results`) replace the copy's own (the batch suites it ran itself on landing the lake's commits), so
-- the data-quality page, `check` and `status` read the pipelines' runs as on a file. Ids are the lake's order
-- from 10^12 on, above any id the copy's sequences give its own runs until the next copy replaces them.
delete from quality_results;
delete from quality_runs;
insert into quality_runs (run_id, run_at, scope, suite, trigger, batch_id, rows_validated, expectations, failed,
    critical_failed, quarantined, success, duration_ms)
select 1000000000000 + copy_run_id, run_at, scope, suite, trigger, batch_id, rows_validated, expectations, failed,
    critical_failed, quarantined, success, duration_ms
from lake_runs;
insert into quality_results (result_id, run_id, run_at, scope, suite, expectation, expectation_type, column_name,
    critical, success, element_count, unexpected_count, observed_value, failing_sample, error, batch_id)
select 1000000000000 + row_number() over (order by r.run_at, r.pipeline, r.writer_result_id),
    1000000000000 + u.copy_run_id, r.run_at, r.scope, r.suite, r.expectation, r.expectation_type, r.column_name,
    r.critical, r.success, r.element_count, r.unexpected_count, cast(r.observed_value as json),
    cast(r.failing_sample as json), r.error, r.batch_id
from lake_results r
join lake_runs u using (pipeline, writer_run_id);
