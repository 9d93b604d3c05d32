-- One customer's current health row; components as JSON text whatever their stored type.
select * replace (to_json(components)::varchar as components)
from customer_health
where customer_id = $customer_id;
