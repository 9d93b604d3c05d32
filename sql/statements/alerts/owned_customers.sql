-- store = "ducklake": of the candidate customers ($subjects), those whose alerts this pipeline raises: their
-- home partition (the partition of the customers topic when they have one, else the first of their topics)
-- is one it owns, or, for a customer with no partition recorded (a null or over-long key), it is the leader;
-- whether it is the leader (it owns partition 0 of the customers topic: it raises the portfolio-wide alerts),
-- and whether it owns any partition at all.
with home as (
    select customer_id, arg_min("partition", (topic <> $customers_topic, topic)) as "partition",
        min_by(topic, (topic <> $customers_topic, topic)) as topic
    from customer_partitions
    group by customer_id
),
leader as (
    select exists (from pipeline_partitions where topic = $customers_topic and "partition" = 0) as is_leader
),
subjects as (
    select distinct unnest($subjects::varchar[]) as customer_id
)
select
    coalesce((select list(s.customer_id order by s.customer_id)
              from subjects s
              left join home h using (customer_id)
              left join pipeline_partitions p on p.topic = h.topic and p."partition" = h."partition"
              where p.topic is not null or (h.customer_id is null and (select is_leader from leader))),
             []::varchar[]) as customers,
    (select is_leader from leader) as leader,
    exists (from pipeline_partitions) as owns_any;
