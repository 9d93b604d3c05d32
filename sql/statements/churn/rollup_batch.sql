-- Fold the succeeded charges landed by batch $batch_id (read from the batch's own row groups) into
-- churn_transactions: the batch's customer-days merged with the stored ones, amounts summed per day in the
-- reporting currency ($fx_currencies/$fx_rates: units of each currency per reporting unit).
insert into churn_transactions
with batch_days as (
    select customer_id, occurred_at::date as day,
        sum(amount::double / map_extract_value(map($fx_currencies::varchar[], $fx_rates::double[]), currency))
            as amount
    from payments
    where batch_id = $batch_id and kind = 'charge' and status = 'succeeded'
    group by customer_id, occurred_at::date
), stored_days as (
    select customer_id, unnest(days) as entry
    from churn_transactions
    where customer_id in (select customer_id from batch_days)
), merged as (
    select customer_id, day, sum(amount) as amount
    from (
        select customer_id, day, amount from batch_days
        union all
        select customer_id, entry.day, entry.amount from stored_days
    )
    group by customer_id, day
)
select customer_id, list({'day': day, 'amount': amount} order by day) as days
from merged
group by customer_id
on conflict (customer_id) do update set days = excluded.days;
