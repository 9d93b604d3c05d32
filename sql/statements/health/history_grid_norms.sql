-- The norms of every point in [$first_at, $last_at] (health_grid_rows; zeros for a point without known
-- customers), with the settings.
insert into health_history_norms
select p.range, coalesce(n.n.customers, 0), coalesce(n.n.median_support_minutes_90d, 0),
    coalesce(n.n.median_complaint_index_90d, 0), coalesce(n.n.median_margin_90d, 0), $params::VARCHAR
from range($first_at::TIMESTAMP, $last_at::TIMESTAMP + interval 1 day, interval 1 day) p
left join (select as_of, any_value(norms) as n from health_grid_rows group by as_of) n on n.as_of = p.range
order by p.range;
