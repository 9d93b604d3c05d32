-- store = "ducklake": the partitions this pipeline owns now (written on each assignment), and the partition
-- each customer's messages arrive on (keyed by customer_id), so that N pipelines sharing one lake raise a
-- customer's alert once: the pipeline owning the customer's home partition (on the customers topic when
-- known) does; portfolio-wide alerts are raised by the owner of partition 0 of the customers topic.
create table if not exists pipeline_partitions (
    topic       varchar not null,
    "partition" integer not null,
    primary key (topic, "partition")
);
create table if not exists customer_partitions (
    customer_id varchar not null,
    topic       varchar not null,
    "partition" integer not null,
    primary key (customer_id, topic)
);
