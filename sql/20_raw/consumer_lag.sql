-- Latest consumer lag seen by the pipeline per partition (messages). Tansu's end offsets are approximate.
create table if not exists consumer_lag (
    topic       varchar not null,
    "partition" integer not null,
    end_offset  bigint not null,
    next_offset bigint not null,
    lag         bigint not null,
    observed_at timestamp not null,
    primary key (topic, "partition")
);
