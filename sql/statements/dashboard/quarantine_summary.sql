-- Valid messages held back by a critical batch expectation, per event type and reason (times UTC).
select
    event_type,
    reason,
    count(*)              as messages,
    max(quarantined_at)   as last_at
from quarantine
group by all
order by messages desc, event_type, reason
limit $limit;
