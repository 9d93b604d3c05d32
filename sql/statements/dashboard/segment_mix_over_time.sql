-- Customers per segment at each history point since $since (portfolio_segment_mix, as health/segment_mix),
-- for the customers whose current profile matches $kind and $plan (null = all).
select day, as_of, segment, customers
from portfolio_segment_mix($kind, $plan)
where as_of >= $since
order by as_of, segment;
