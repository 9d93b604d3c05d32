-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- Every message of the batch with at least one problem, with its raw bytes and all its reasons.
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
)
select nextval('dead_letter_ids'), $now::TIMESTAMP, $batch_id::BIGINT, d.event_type, d.topic, d."partition", d."offset", d.source_file, d.source_line,
    d.message_key, d.raw, p.problems[1].code,
    array_to_string(list_transform(p.problems, x -> x.message), '; ')
from problems p
join incoming d using (ordinal)
where len(p.problems) > 0
order by ordinal;
