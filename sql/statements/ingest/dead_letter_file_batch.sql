-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- A file batch's bad rows (as ingest/dead_letter_batch), except those an earlier load already dead-lettered:
-- the same file (source_file as given to load), event type, line and raw bytes. A file loaded again thus
-- stores its bad rows once; they are counted as already dead-lettered (ingest.landing). Kafka batches run
-- ingest/dead_letter_batch, which never reads dead_letter.
insert into dead_letter (dead_letter_id, dead_lettered_at, batch_id, event_type, topic, "partition", "offset", source_file,
    source_line, message_key, raw, reason_code, reason)
with problems as (
    select ordinal, problems from checked_tickets
    union all select ordinal, problems from checked_payments
    union all select ordinal, problems from checked_visits
    union all select ordinal, problems from checked_customers
    union all select ordinal, [contract_problem('unknown_event_type', 'no event type for this message')]
    from incoming
    where event_type is null or not list_contains(event_types(), event_type)
), bad as (
    select d.*, p.problems
    from problems p
    join incoming d using (ordinal)
    where len(p.problems) > 0
), known as (
    select k.source_file, k.source_line, k.event_type, k.raw
    from dead_letter k
    where k.source_file in (select source_file from bad)
)
select nextval('dead_letter_ids'), $now::TIMESTAMP, $batch_id::BIGINT, b.event_type, b.topic, b."partition", b."offset",
    b.source_file, b.source_line, b.message_key, b.raw, b.problems[1].code,
    array_to_string(list_transform(b.problems, x -> x.message), '; ')
from bad b
anti join known k
    on k.source_file = b.source_file and k.source_line = b.source_line
    and k.event_type is not distinct from b.event_type and k.raw = b.raw
order by b.ordinal;
