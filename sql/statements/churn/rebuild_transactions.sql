-- Rebuild churn_days from every landed succeeded charge (see rollup_batch), after churn/clear_transactions.
insert into churn_days
select customer_id, occurred_at::date as day,
    sum(amount::double / map_extract_value(map($fx_currencies::varchar[], $fx_rates::double[]), currency)) as amount
from payments
where kind = 'charge' and status = 'succeeded'
group by customer_id, occurred_at::date;
