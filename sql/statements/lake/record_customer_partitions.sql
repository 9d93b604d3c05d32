-- Where each customer's messages of the registered batch (lake_incoming) arrive: its key is the customer id.
insert or replace into customer_partitions
select decode(message_key) as customer_id, topic, any_value("partition")
from lake_incoming
where message_key is not null and topic is not null and "partition" is not null and octet_length(message_key) <= 200
group by all;
