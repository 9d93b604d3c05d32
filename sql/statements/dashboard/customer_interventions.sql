-- What was done about one customer, newest first (UTC), and by whom.
select recorded_at, step, note, recorded_by
from interventions
where customer_id = $customer_id
order by recorded_at desc;
