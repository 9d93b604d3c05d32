-- store = "ducklake": the group's interventions in the lake (the interventions table's columns), once each.
select intervention_id, customer_id, step, note, recorded_by, tried_at, recorded_at
from lake.intervention_log
where group_id = $group_id
qualify row_number() over (partition by intervention_id order by recorded_at) = 1
order by intervention_id;
