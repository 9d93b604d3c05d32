-- prepared: run once per batch, so every parameter carries its type ($name::TYPE)
-- The norms in use (latest full refresh): the UTC day its windows end on, when on the wall clock
-- (computed_at, the model's time, in databases from before recorded_at), the settings it ran with, and the norms.
select n.window_day, coalesce(n.recorded_at, n.computed_at), n.params, n.customers, n.median_support_minutes_90d,
    n.median_complaint_index_90d, n.median_margin_90d
from (select 1) as one
left join (select * from health_norms order by computed_at desc limit 1) as n on true;
