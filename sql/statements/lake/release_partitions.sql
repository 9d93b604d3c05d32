-- A rebalance took this pipeline's partitions (the next assignment writes its own).
delete from pipeline_partitions;
