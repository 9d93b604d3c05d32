-- Customers with a succeeded charge in batch $batch_id (read from the batch's own row groups).
select distinct customer_id
from payments
where batch_id = $batch_id and kind = 'charge' and status = 'succeeded'
order by customer_id;
