-- The confirmed segment of each point of health_grid_rows, chained: a point's hysteresis starts from the
-- segment of the customer's point before (the first from the latest stored point before $first_at, as
-- health_refs gives it), into the history (health_snapshots; snapshot_id in point, then customer order).
-- Set-based: each point's rules are evaluated once per previous segment they can hold on to (moves[i]:
-- the segment, as its position in seg.names, that the point gives from segment i; position 7: none),
-- then each customer's points are folded over in time order (list_reduce appends the next state), and
-- the point's rules once more from the segment found before it, for the reason. A customer's points are
-- consecutive days from their first (a profile, once there, stays). The statement's snapshot ids are the
-- sequence values it draws, in (point, customer) order: consecutive, as nothing else draws them meanwhile.
insert into health_snapshots by name
with params as materialized (
    select health_params($params::JSON) as hp,
        ['churned', 'terrorist', 'unprofitable', 'at_risk', 'champion', 'healthy'] as names
),
before as (
    select customer_id, arg_max(segment, snapshot_at) as segment
    from health_snapshots
    where snapshot_at < $first_at::TIMESTAMP
    group by customer_id
),
moves as (
    select g.customer_id, g.as_of, [
            list_position(params.names,
                health_rule_segment(health_segment_rule(null, g.segment_inputs, params.hp))),
            list_position(params.names,
                health_rule_segment(health_segment_rule('terrorist', g.segment_inputs, params.hp))),
            list_position(params.names,
                health_rule_segment(health_segment_rule('unprofitable', g.segment_inputs, params.hp))),
            list_position(params.names,
                health_rule_segment(health_segment_rule('at_risk', g.segment_inputs, params.hp))),
            list_position(params.names,
                health_rule_segment(health_segment_rule('champion', g.segment_inputs, params.hp)))
        ] as m
    from health_grid_rows g, params
),
folded as (
    select customer_id, min(as_of) as first_at, list_reduce(
            list([m[1], m[2], m[3], m[4], m[5], m[1], m[1]] order by as_of),
            (states, move) -> list_append(states, move[states[-1]]),
            [coalesce(list_position(any_value(params.names), any_value(b.segment)), 7)]) as states
    from moves
    cross join params
    left join before b using (customer_id)
    group by customer_id
),
-- each customer's states as text, one letter per state ('a' is position 1), which the join below gathers per point
-- cheaply (a list would be copied whole for each)
chained as (
    select customer_id, first_at, array_to_string(list_transform(states, s -> chr(96 + s)), '') as states
    from folded
)
select min(nextval('health_snapshot_ids')) over () - 1 + row_number() over (order by snapshot_at, customer_id)
        as snapshot_id,
    customer_id, snapshot_at, 'daily' as reason, health_score, health_rule_segment(segment_rule) as segment,
    previous_segment, components, revenue_90d, cost_to_serve_90d, margin_90d, complaint_index_90d,
    support_minutes_90d, segment_reason
from (
    select p.* exclude (segment_inputs, hp),
        health_rule_reason(p.segment_rule, p.segment_inputs, p.hp) as segment_reason
    from (
        select g.customer_id, g.as_of as snapshot_at, g.health_score, params.names[g.previous] as previous_segment,
            health_segment_rule(params.names[g.previous], g.segment_inputs, params.hp) as segment_rule,
            g.segment_inputs, params.hp, g.components, g.revenue_90d, g.cost_to_serve_90d, g.margin_90d,
            g.complaint_index_90d, g.support_minutes_90d
        from (
            -- the state before the point: the customer's (days since the first point + 1)th
            select g.* exclude (support_minutes_90d), g.support_minutes_90d::double as support_minutes_90d,
                ascii(c.states[date_diff('day', c.first_at, g.as_of) + 1]) - 96 as previous
            from health_grid_rows g
            join chained c using (customer_id)
        ) g
        cross join params
    ) p
)
-- stored in time order, as the history is read (by snapshot_at)
order by snapshot_at, customer_id;
