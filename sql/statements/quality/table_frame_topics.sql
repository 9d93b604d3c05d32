-- Table-suite frame: one row per topic (event type). Both measures are of event time (occurred_at), so
-- both are taken at the model's now (health_model_now($now), $now the wall clock, UTC): the wall clock, or
-- with [clock] source = 'events' the latest event time landed. Landing recency (wall clock against wall
-- clock) is the pipeline/staleness alert's. Freshness: age of the newest event (minutes; null when the topic
-- has no event). Volume: events with occurred_at in the last $window_minutes vs the average over the
-- $trailing_windows windows before it; the band is [average / $band, average * $band], null (not judged)
-- while the average is below $min_average.
with newest as (
    select 'tickets' as topic, max(occurred_at) as last_event_at from tickets
    union all select 'payments', max(occurred_at) from payments
    union all select 'visits', max(occurred_at) from visits
    union all select 'customers', max(occurred_at) from customer_events
), model_now as (
    select health_model_now($now::timestamp) as now_at
), bounds as (
    select now_at,
        now_at - to_microseconds(($window_minutes * 60e6)::bigint) as recent_start,
        now_at - to_microseconds(($window_minutes * 60e6 * ($trailing_windows + 1))::bigint) as trailing_start
    from model_now
), recent_events as (
    select 'tickets' as topic, occurred_at from tickets, bounds
    where occurred_at > trailing_start and occurred_at <= now_at
    union all select 'payments', occurred_at from payments, bounds
    where occurred_at > trailing_start and occurred_at <= now_at
    union all select 'visits', occurred_at from visits, bounds
    where occurred_at > trailing_start and occurred_at <= now_at
    union all select 'customers', occurred_at from customer_events, bounds
    where occurred_at > trailing_start and occurred_at <= now_at
), volumes as (
    select topic,
        count(*) filter (where occurred_at > recent_start) as recent_events,
        count(*) filter (where occurred_at <= recent_start) / $trailing_windows::double as trailing_average
    from recent_events, bounds
    group by topic
)
select n.topic, n.last_event_at,
    (epoch_ms(m.now_at) - epoch_ms(n.last_event_at)) / 60000.0 as last_event_age_minutes,
    coalesce(v.recent_events, 0)::double as recent_events,
    coalesce(v.trailing_average, 0) as trailing_average,
    case when coalesce(v.trailing_average, 0) >= $min_average then v.trailing_average / $band end
        as volume_lower_bound,
    case when coalesce(v.trailing_average, 0) >= $min_average then v.trailing_average * $band end
        as volume_upper_bound
from newest n
cross join model_now m
left join volumes v using (topic)
order by n.topic;
