-- Every message that could not be landed, with its raw bytes and a readable reason. Nothing is dropped.
create sequence if not exists dead_letter_ids start 1;
create table if not exists dead_letter (
    dead_letter_id   bigint primary key,  -- from sequence dead_letter_ids (a column default on a
                                      -- sequence makes the table unreadable over Quack 1.5.5)
    dead_lettered_at timestamp not null,
    batch_id         bigint not null,
    event_type       varchar,
    topic            varchar,           -- Kafka origin (null for files)
    "partition"      integer,
    "offset"         bigint,
    source_file      varchar,           -- file origin (null for Kafka)
    source_line      bigint,            -- 1-based line (JSONL) or row (CSV, Parquet)
    message_key      blob,
    raw              blob not null,
    reason_code      varchar not null,  -- not_utf8, oversized, invalid_json, not_an_object, missing_field, ...
    reason           varchar not null
);
