-- Quarantined messages per event type and failed expectation (a message failing two counts under both).
with failed as (
    select event_type, unnest(expectations) as expectation, quarantined_at from quarantine
)
select event_type, expectation, count(*) as messages, max(quarantined_at) as last_at
from failed
group by all
order by messages desc, event_type, expectation;
