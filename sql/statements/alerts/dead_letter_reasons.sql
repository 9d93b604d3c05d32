-- Dead letters since $since by event type and reason, most frequent first.
select coalesce(event_type, '?') as event_type, reason_code, count(*) as messages
from dead_letter
where dead_lettered_at >= $since
group by all
order by messages desc, event_type, reason_code
limit 10;
