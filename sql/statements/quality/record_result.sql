-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- One expectation result of run $run_id. observed_value and failing_sample are JSON text.
insert into quality_results (result_id, run_id, run_at, scope, suite, expectation, expectation_type, column_name,
    critical, success, element_count, unexpected_count, observed_value, failing_sample, error, batch_id)
values (nextval('quality_result_ids'), $run_id::BIGINT, $run_at::TIMESTAMP, $scope::VARCHAR, $suite::VARCHAR,
    $expectation::VARCHAR, $expectation_type::VARCHAR, $column_name::VARCHAR, $critical::BOOLEAN, $success::BOOLEAN,
    $element_count::BIGINT, $unexpected_count::BIGINT, $observed_value::VARCHAR::JSON,
    $failing_sample::VARCHAR::JSON, $error::VARCHAR, $batch_id::BIGINT);
