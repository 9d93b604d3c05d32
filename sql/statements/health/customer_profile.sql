-- A customer's current profile (to tell an unknown id from one without health yet).
select customer_id, name, kind, plan, household_id, signed_up_at, cancelled_at, profile_updated_at
from customers
where customer_id = $customer_id;
