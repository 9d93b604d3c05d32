-- Valid messages (they passed the contract) that failed a critical batch expectation: kept whole, with
-- their raw bytes, origin and the reasons, instead of landing. Nothing is dropped. Times are UTC.
create sequence if not exists quarantine_ids start 1;
create table if not exists quarantine (
    quarantine_id  bigint primary key,  -- from sequence quarantine_ids
    quarantined_at timestamp not null,
    batch_id       bigint not null,
    run_id         bigint not null,     -- the batch-suite run (quality_runs) that failed it
    event_type     varchar not null,
    event_id       varchar,
    customer_id    varchar,
    topic          varchar,             -- Kafka origin (null for files)
    "partition"    integer,
    "offset"       bigint,
    source_file    varchar,             -- file origin (null for Kafka)
    source_line    bigint,
    message_key    blob,
    raw            blob not null,
    expectations   varchar[] not null,  -- the failed critical expectations
    reason         varchar not null     -- readable: expectation and the offending value
);
