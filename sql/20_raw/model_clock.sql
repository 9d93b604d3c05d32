-- The model's clock, one row: the latest event time landed (occurred_at, UTC), never moving backwards,
-- and the clock source of the pipeline that landed it ([clock] source: 'wall' or 'events').
create table if not exists model_clock (
    id          boolean primary key default true check (id),
    source      varchar not null,
    event_time  timestamp,
    updated_at  timestamp not null  -- wall clock, UTC
);

-- The model's now (UTC) when the wall clock says `wall`: the latest landed event time when the pipeline
-- runs with source 'events', else `wall`. Every default "now" of the model and its readers comes from here
-- (through customer_health.clock.model_now); a scalar subquery, so not usable inside a lambda: bind it
-- once as a column first (as health_presented does).
create or replace macro health_model_now(wall) as
    coalesce((select event_time from model_clock where source = 'events'), wall);

-- The now beyond which an event time is in the future (UTC), the wall clock saying `wall`: the later of the
-- wall clock and the model's now. Nothing real happened after the wall clock; a simulated world
-- ([clock] source = 'events', the demo) runs ahead of it, and its future starts after the latest event landed.
-- Read before a batch advances the model clock, it is that batch's edge (the batch suites' future check).
create or replace macro health_future_edge(wall) as greatest(wall, health_model_now(wall));
