-- store = "ducklake": record that playbook step $step was tried with customer $customer_id, in the lake.
insert into lake.intervention_log (group_id, intervention_id, customer_id, step, note, recorded_by, tried_at,
    recorded_at)
values ($group_id, $intervention_id, $customer_id, $step, $note, $recorded_by, $tried_at::timestamp,
    $recorded_at::timestamp);
