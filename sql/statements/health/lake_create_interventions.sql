-- store = "ducklake": the interventions recorded with every reader of the group's lake (attached as `lake`).
-- Append-only, so that readers recording at once and pipelines reading never conflict (DuckLake checks
-- conflicts per table: inserts beside inserts commit); an intervention is never changed once recorded.
create table if not exists lake.intervention_log (
    group_id        varchar not null,
    intervention_id bigint not null,     -- unique among the lake's writers (customer_health.health.lake)
    customer_id     varchar not null,
    step            varchar not null,    -- readjust, educate, renegotiate, migrate, exit
    note            varchar not null,
    recorded_by     varchar not null,
    tried_at        timestamp not null,  -- UTC
    recorded_at     timestamp not null   -- UTC, the wall clock when it was written down
);
