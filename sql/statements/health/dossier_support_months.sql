-- Support minutes and tickets opened of customer $customer_id per calendar month (UTC), $since to $as_of.
select date_trunc('month', occurred_at)::date as month,
    round(sum(handling_minutes), 1) as support_minutes,
    count(*) filter (where action = 'opened') as tickets_opened,
    count(*) filter (where action = 'opened' and category = 'complaint') as complaints,
    count(*) filter (where escalated) as escalated_events
from tickets
where customer_id = $customer_id and occurred_at >= $since::timestamp and occurred_at <= $as_of::timestamp
group by all
order by month;
