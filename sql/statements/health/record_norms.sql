-- Keep the portfolio norms of a full refresh at $now, the model's time, made at $wall (the wall clock,
-- UTC; zeros for an empty portfolio).
insert into health_norms
select $now::TIMESTAMP, $now::TIMESTAMP::date,
    coalesce(r.n.customers, 0), coalesce(r.n.median_support_minutes_90d, 0),
    coalesce(r.n.median_complaint_index_90d, 0), coalesce(r.n.median_margin_90d, 0), $params::VARCHAR,
    $wall::TIMESTAMP
from (select 1) as one
left join (select any_value(norms) as n from health_refreshed) as r on true
-- a second full refresh at the same model time (the events' clock standing still) keeps the norms first
-- recorded at it, and says when they were last confirmed
on conflict (computed_at) do update set recorded_at = excluded.recorded_at;
