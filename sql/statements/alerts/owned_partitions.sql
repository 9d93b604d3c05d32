-- store = "ducklake": the partitions this pipeline owns now, [topic, partition] pairs.
select topic, "partition" from pipeline_partitions order by topic, "partition";
