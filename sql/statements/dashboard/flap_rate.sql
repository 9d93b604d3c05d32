-- Segment flap rate: confirmed segment changes (not a customer's first segment) in the 30 days up to $now
-- (UTC) per known customer, i.e. changes per customer per 30 days.
with changes as (
    select count(*) as changes_30d
    from segment_changes
    where from_segment is not null and changed_at > $now::timestamp - interval 30 day
        and changed_at <= $now::timestamp
),
known as (
    select count(*) as customers from customers
)
select changes_30d, customers, changes_30d / nullif(customers, 0) as flap_rate_30d
from changes, known;
