-- Quarantined messages per event type and failed expectation.
select event_type, unnest(expectations) as expectation, count(*) as messages, max(quarantined_at) as last_at
from quarantine
group by all
order by messages desc, event_type, expectation;
