-- Add the succeeded charges landed by batch $batch_id (read from the batch's own row groups) to churn_days:
-- one row per customer and UTC day, amounts in the reporting currency ($fx_currencies/$fx_rates: units of
-- each currency per reporting unit; no rate: null). A day already stored adds up.
insert into churn_days
select customer_id, occurred_at::date as day,
    sum(amount::double / map_extract_value(map($fx_currencies::varchar[], $fx_rates::double[]), currency)) as amount
from payments
where batch_id = $batch_id and kind = 'charge' and status = 'succeeded'
group by customer_id, occurred_at::date
on conflict (customer_id, day) do update set amount = case
    when churn_days.amount is null then excluded.amount
    when excluded.amount is null then churn_days.amount
    else churn_days.amount + excluded.amount end;
