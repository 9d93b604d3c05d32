-- The next Kafka offset to land per partition, written in the same transaction as the events it covers:
-- the source of truth on restart (Kafka's committed offsets follow it).
create table if not exists consumer_offsets (
    group_id    varchar not null,
    topic       varchar not null,
    "partition" integer not null,
    next_offset bigint not null,
    updated_at  timestamp not null,
    -- the broker's id of the topic: a different id on restart means the topic was recreated and its
    -- offsets start again, so the stored offset no longer applies
    topic_id    varchar,
    primary key (group_id, topic, "partition")
);
