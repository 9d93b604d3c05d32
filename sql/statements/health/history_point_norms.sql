-- prepared: run once per history point, so every parameter carries its type ($name::TYPE)
-- The norms of the point at $at in health_refreshed (zeros for an empty portfolio), with the settings.
insert into health_history_norms
select $at::TIMESTAMP, coalesce(r.n.customers, 0), coalesce(r.n.median_support_minutes_90d, 0),
    coalesce(r.n.median_complaint_index_90d, 0), coalesce(r.n.median_margin_90d, 0), $params::VARCHAR
from (select 1) as one
left join (select any_value(norms) as n from health_refreshed) as r on true;
