-- Keep the portfolio norms of a full refresh at $now (zeros for an empty portfolio).
insert into health_norms
select $now::TIMESTAMP, $now::TIMESTAMP::date,
    coalesce(r.n.customers, 0), coalesce(r.n.median_support_minutes_90d, 0),
    coalesce(r.n.median_complaint_index_90d, 0), coalesce(r.n.median_margin_90d, 0), $params::VARCHAR
from (select 1) as one
left join (select any_value(norms) as n from health_refreshed) as r on true
on conflict do nothing;
