-- store = "ducklake": the customers whose alerts this pipeline raises (their home partition is one it owns:
-- the partition of the customers topic when they have one, else the first of their topics), and whether it
-- raises the portfolio-wide ones (it owns partition 0 of the customers topic).
with home as (
    select customer_id, arg_min("partition", (topic <> $customers_topic, topic)) as "partition",
        min_by(topic, (topic <> $customers_topic, topic)) as topic
    from customer_partitions
    group by customer_id
)
select
    coalesce((select list(customer_id order by customer_id) from home join pipeline_partitions using (topic, "partition")),
             []::varchar[]) as customers,
    exists (from pipeline_partitions where topic = $customers_topic and "partition" = 0) as leader;
