-- Steps of the playbook tried with a customer: who recorded it and when it was tried (UTC).
create sequence if not exists intervention_ids start 1;
create table if not exists interventions (
    intervention_id bigint primary key,  -- from sequence intervention_ids
    customer_id     varchar not null,
    step            varchar not null,    -- readjust, educate, renegotiate, migrate, exit
    note            varchar not null,
    recorded_by     varchar not null,
    tried_at        timestamp not null,
    recorded_at     timestamp not null
);
