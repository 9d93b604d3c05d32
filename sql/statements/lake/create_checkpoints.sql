-- The manifest of the working-store checkpoints (ingest.checkpoint): a row per complete checkpoint, inserted
-- only once every file of it is written, so a checkpoint without a row (its writer died) is never read.
-- `commits` is how many lake commits it covers (their ids: commits.parquet in its directory).
create table if not exists lake.checkpoints (
    checkpoint_id varchar not null,   -- uuid, also its directory's name
    group_id      varchar not null,
    pipeline      varchar not null,   -- the member that wrote it
    created_at    timestamp not null, -- UTC
    path          varchar not null,   -- its directory (ends with /), under the lake's data path
    schema_hash   varchar not null,   -- sha256 of the working store's schema files
    settings_hash varchar not null,   -- sha256 of the [health] settings it was derived with
    commits       bigint not null,
    messages      bigint not null
);
