-- Customers of the new scores (table churn_scores) that used to be valuable and whose p_alive fell
-- from at or above $threshold (their stored score) to below it: appended to churn_fading. Customers who
-- cancelled by $as_of did not go silent (they said so) and are left out.
insert into churn_fading
select s.customer_id, $as_of, c.p_alive, s.p_alive, $threshold, s.transactions, s.lifetime_value,
    s.expected_value_90d, $fit_id, $batch_id
from churn_scores s
join customer_churn c using (customer_id)
left join customers p using (customer_id)
where c.p_alive >= $threshold
    and s.p_alive < $threshold
    and s.transactions >= $valuable_min_transactions
    and coalesce(s.lifetime_value, 0) >= $valuable_min_lifetime_value
    and (p.cancelled_at is null or p.cancelled_at > $as_of);
