-- The BG/NBD summary of each customer as of $as_of: transactions are the UTC days with a succeeded charge
-- up to and including the UTC day of $as_of; time 0 is the first of them; weeks = days / 7.
-- frequency: transactions after the first; recency_weeks: last - first; age_weeks: day of $as_of - first.
-- Money in the reporting currency (days without a priced charge are left out of the sums and means).
-- $customer_ids: only these customers (null: everyone with a transaction).
with kept as (
    select customer_id, list_filter(days, d -> d.day <= $as_of::date) as days
    from churn_transactions
    where $customer_ids::varchar[] is null or customer_id in (select unnest($customer_ids::varchar[]))
)
select customer_id,
    len(days) - 1 as frequency,
    (days[-1].day - days[1].day) / 7.0 as recency_weeks,
    ($as_of::date - days[1].day) / 7.0 as age_weeks,
    len(days) as transactions,
    list_sum(list_transform(days, d -> d.amount)) as lifetime_value,
    list_avg(list_transform(days, d -> d.amount)) as avg_charge,
    days[1].day as first_day
from kept
where len(days) > 0
order by customer_id;
