-- The lake's shared log (DuckLake, attached as `lake`): append-only, so that the pipelines' concurrent
-- commits never conflict on these tables (DuckLake checks conflicts per table: inserts beside inserts
-- commit; an insert into a table another transaction deleted from fails).
-- One row per committed batch of one pipeline.
create table if not exists lake.lake_commits (
    commit_id    varchar not null,   -- uuid
    group_id     varchar not null,   -- the consumer group
    pipeline     varchar not null,   -- the pipeline's member id
    committed_at timestamp not null, -- UTC
    messages     bigint not null
);
-- Every message of a committed batch exactly as it arrived (bytes never decoded here): what readers and
-- new partition owners land through the event contract.
create table if not exists lake.raw_messages (
    commit_id    varchar not null,
    event_type   varchar,
    topic        varchar,
    "partition"  integer,
    "offset"     bigint,
    source_file  varchar,
    source_line  bigint,
    message_key  blob,
    raw          blob,
    produced_at  timestamp,          -- Kafka record timestamp, UTC
    topic_id     varchar
);
-- Which per-partition offset table holds which partition (the tables are named by their slot).
create table if not exists lake.partition_slots (
    group_id    varchar not null,
    topic       varchar not null,
    "partition" integer not null,
    slot        varchar not null
);
