-- Whether this pipeline is the group's leader: it owns partition 0 of the customers topic (as for the
-- portfolio-wide alerts), so it writes the checkpoints.
select exists (from pipeline_partitions where topic = $customers_topic and "partition" = 0);
