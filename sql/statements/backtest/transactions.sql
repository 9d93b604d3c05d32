-- Transactions as the churn model counts them (days with a succeeded charge, churn_days) per customer in
-- the UTC days ($calibration_end, $horizon_last_day]: the actual side of the model's check.
select customer_id, count(*)::integer as actual_transactions
from churn_days
where day > $calibration_end::date and day <= $horizon_last_day::date
    and customer_id in (select unnest($customer_ids::varchar[]))
group by customer_id;
