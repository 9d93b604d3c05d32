-- Dead letters per reason and event type, most frequent first (times UTC).
select
    reason_code,
    coalesce(event_type, 'unknown') as event_type,
    count(*)                        as dead_letters,
    max(dead_lettered_at)           as last_at
from dead_letter
group by all
order by dead_letters desc, reason_code, event_type;
