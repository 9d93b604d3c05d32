-- Alerts sent on their own (not held, not summaries) since $since: the circuit breakers' windows.
select source, created_at
from alerts
where created_at >= $since and delivery_status <> 'held' and subject <> '*'
order by created_at;
