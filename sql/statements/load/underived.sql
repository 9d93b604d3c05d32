-- Whether rows a load landed still wait for what a load derives at its end (composition.finish_load): a file
-- batch landed rows after the last full refresh, whose norms record its wall clock (UTC). A load that stopped
-- before its end (a file it could not read) derived nothing.
select exists (
    select 1 from ingest_batches
    where source like 'file:%' and landed > 0
        and committed_at >= coalesce((select max(recorded_at) from health_norms), '-infinity'::timestamp)
);
