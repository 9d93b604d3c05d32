-- The BG/NBD summary of each customer as of $as_of: transactions are the UTC days with a succeeded charge
-- up to and including the UTC day of $as_of; time 0 is the first of them; weeks = days / 7.
-- frequency: transactions after the first; recency_weeks: last - first; age_weeks: day of $as_of - first.
-- Money in the reporting currency (days without a priced charge are left out of the sums and means).
-- $customer_ids: only these customers (null: everyone with a transaction).
select customer_id,
    count(*) - 1 as frequency,
    (max(day) - min(day)) / 7.0 as recency_weeks,
    ($as_of::date - min(day)) / 7.0 as age_weeks,
    count(*) as transactions,
    sum(amount) as lifetime_value,
    avg(amount) as avg_charge,
    min(day) as first_day
from churn_days
where day <= $as_of::date
    and ($customer_ids::varchar[] is null or customer_id in (select unnest($customer_ids::varchar[])))
group by customer_id
order by customer_id;
