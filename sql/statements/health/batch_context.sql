-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- The context of the refresh at $now into health_batch_context (read there by the batch statements);
-- $owned_only: it derives only the customers this pipeline owns (pipeline_owned_customers, $customers_topic).
insert into health_batch_context
select $params::JSON, health_fx($params::JSON), $now::TIMESTAMP, $owned_only::BOOLEAN, $customers_topic::VARCHAR;
