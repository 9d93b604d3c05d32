-- Whether the history holds the point of $now's UTC day, derived with these settings: a full refresh then
-- derives with that point's norms (health_computed), whatever the portfolio does within the day.
select exists (
    select 1 from health_history_norms
    where as_of = $now::TIMESTAMP::date::timestamp and params = $params::VARCHAR
);
