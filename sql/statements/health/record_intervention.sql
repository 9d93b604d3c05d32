-- Record that playbook step $step was tried with customer $customer_id.
insert into interventions
select nextval('intervention_ids'), $customer_id, $step, $note, $recorded_by, $tried_at::timestamp,
    $recorded_at::timestamp
returning intervention_id, customer_id, step, note, recorded_by, tried_at, recorded_at;
