-- Copy the batch's rows listed in the table `quality_failing_rows` (ordinal, run_id,
-- expectations, reason) to quarantine, in arrival order, with their ids (checked_*), raw bytes and origin
-- (incoming).
insert into quarantine (quarantine_id, quarantined_at, batch_id, run_id, event_type, event_id, customer_id, topic,
    "partition", "offset", source_file, source_line, message_key, raw, expectations, reason)
with ids as (
    select ordinal, event_id, customer_id from checked_tickets
    union all select ordinal, event_id, customer_id from checked_payments
    union all select ordinal, event_id, customer_id from checked_visits
    union all select ordinal, event_id, customer_id from checked_customers
), failing as (
    select f.run_id, d.event_type, i.event_id, i.customer_id, d.topic, d."partition", d."offset", d.source_file,
        d.source_line, d.message_key, d.raw, f.expectations, f.reason
    from quality_failing_rows f
    join incoming d using (ordinal)
    join ids i using (ordinal)
    order by d.ordinal
)
select nextval('quarantine_ids'), $now, $batch_id, run_id, event_type, event_id, customer_id, topic, "partition",
    "offset", source_file, source_line, message_key, raw, expectations, reason
from failing;
