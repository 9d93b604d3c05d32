-- Visits committed to the lake per freshness probe customer (bench/lake_scale.py): what any reader that
-- attaches the lake can read (the message key is the customer id).
select decode(message_key) as customer_id, count(*)::integer as visits
from lake.raw_messages
where event_type = 'visits' and decode(message_key) like 'PROBE-%'
group by all;
