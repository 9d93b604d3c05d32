-- Customers who moved to another segment since $since (UTC), by the segment they moved to, for the
-- demo's status line. A customer's first segment (from_segment null) is not a move.
select to_segment, count(*) as moves
from segment_changes
where changed_at >= $since and from_segment is not null
group by to_segment
order by moves desc, to_segment;
