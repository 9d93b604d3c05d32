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
-- store = "ducklake": of the customers in relation candidates_src (a customer_id column), those this pipeline
-- owns, the one rule of which pipeline raises a customer's alerts and derives its health per batch: their home
-- partition (the partition of the customers topic when they have one, else the first of their topics) is one
-- it owns, or, for a customer with no partition recorded (a null or over-long key), it is the leader (it owns
-- partition 0 of customers_topic). On the file store pipeline_partitions is empty: callers do not ask.
create or replace macro pipeline_owned_customers(candidates_src, customers_topic) as table
with candidates as (
    select distinct customer_id from query_table(candidates_src)
),
home as (
    select customer_id, arg_min("partition", (topic <> customers_topic, topic)) as "partition",
        min_by(topic, (topic <> customers_topic, topic)) as topic
    from customer_partitions
    where customer_id in (select customer_id from candidates)
    group by customer_id
)
select c.customer_id
from candidates c
left join home h using (customer_id)
left join pipeline_partitions p on p.topic = h.topic and p."partition" = h."partition"
where p.topic is not null or (h.customer_id is null
    and exists (from pipeline_partitions where topic = customers_topic and "partition" = 0));
