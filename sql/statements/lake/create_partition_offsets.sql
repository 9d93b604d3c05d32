-- One offset table per partition (__offsets__ is the partition's table): a batch's commit replaces its one
-- row, so two transactions writing one partition conflict at commit (a stale owner after a rebalance is
-- fenced), while pipelines writing other partitions never do. Seeded with a row so that the first commit
-- deletes, and conflicts, too.
create table if not exists lake.__offsets__ (
    next_offset bigint not null,     -- the next Kafka offset to land; -1: nothing landed yet
    topic_id    varchar,             -- the broker's topic id when landed (a recreated topic starts again)
    owner       varchar not null,    -- the pipeline member that owns the partition
    claimed_at  timestamp not null   -- UTC
);
