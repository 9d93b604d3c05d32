-- The health facts of the events landed by batch $batch_id (read from the batch's own row groups).
create or replace temp table health_batch_facts as
select * from health_event_facts((select health_fx($params::json)), $batch_id, null, null);
