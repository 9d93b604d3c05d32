-- Valid messages not landed again because their event_id was already stored (per batch), and messages
-- held in quarantine by a critical batch expectation, by event type.
select
    (select coalesce(sum(duplicates), 0) from ingest_batches) as duplicates,
    (select coalesce(map(list(event_type order by event_type), list(n order by event_type)), map())
     from (select event_type, count(*) as n from quarantine group by event_type)) as quarantined_by_type;
