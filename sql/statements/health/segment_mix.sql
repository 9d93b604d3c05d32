-- Segment mix over time (portfolio_segment_mix): customers per segment at each history point of the last
-- $days days before the model's now.
select day, as_of, segment, customers
from portfolio_segment_mix(null, null)
where as_of >= health_model_now(health_utc_now()) - to_days($days::integer)
order by as_of, segment;
