-- Rebuild churn_transactions from every landed succeeded charge (one entry per customer and UTC day,
-- amounts in the reporting currency; see rollup_batch), after churn/clear_transactions.
insert into churn_transactions
with charge_days as (
    select customer_id, occurred_at::date as day,
        sum(amount::double / map_extract_value(map($fx_currencies::varchar[], $fx_rates::double[]), currency))
            as amount
    from payments
    where kind = 'charge' and status = 'succeeded'
    group by customer_id, occurred_at::date
)
select customer_id, list({'day': day, 'amount': amount} order by day) as days
from charge_days
group by customer_id;
