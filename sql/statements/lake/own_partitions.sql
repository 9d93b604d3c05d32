-- The partitions this pipeline owns from now on (a JSON list of [topic, partition]), after
-- lake/release_partitions emptied the table.
insert into pipeline_partitions
select j->>0, (j->>1)::integer from (select unnest(from_json($owned::VARCHAR, '["JSON"]')) as j);
