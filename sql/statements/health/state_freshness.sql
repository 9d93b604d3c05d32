-- How current the maintained health is: the UTC day its windows end on, its latest refresh, its rows.
select max(window_day) as window_day, max(as_of) as refreshed_at, count(*) as customers from health_state;
