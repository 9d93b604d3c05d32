-- Alerts sent on their own (not held, not summaries) in [$since, $now] (wall clock, UTC): the circuit
-- breakers' windows. Alerts stamped after $now (on the model's clock, by an older pipeline) do not count.
select source, created_at
from alerts
where created_at >= $since and created_at <= $now and delivery_status <> 'held' and subject <> '*'
order by created_at;
