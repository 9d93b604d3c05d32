-- The confirmed segment changes of customer $customer_id in the stored history before $as_of, oldest
-- first: changed_at (the point), from_segment (null for the first segment), to_segment.
select changed_at, from_segment, to_segment
from (
    select snapshot_at as changed_at, segment as to_segment,
        lag(segment) over (order by snapshot_at) as from_segment
    from health_snapshots
    where customer_id = $customer_id and snapshot_at < $as_of::TIMESTAMP
)
where from_segment is distinct from to_segment
order by changed_at;
