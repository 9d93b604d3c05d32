-- The ops page: recently quarantined messages with their reasons and origin, newest first.
select quarantine_id, quarantined_at, batch_id, event_type, event_id, customer_id, topic, "partition", "offset",
    source_file, source_line, expectations, reason, decode(raw) as raw_text
from quarantine
order by quarantine_id desc
limit $limit;
