-- The interventions recorded for a customer up to $as_of, oldest first.
select intervention_id, step, note, recorded_by, tried_at, recorded_at
from interventions
where customer_id = $customer_id and tried_at <= $as_of::timestamp
order by tried_at, intervention_id;
